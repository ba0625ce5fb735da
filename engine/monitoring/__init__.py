"""How journeys and the engine are doing: maintained counters, metrics, status and the live bus."""
