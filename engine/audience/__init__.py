"""Who the journeys are for: customers, segments and events."""
