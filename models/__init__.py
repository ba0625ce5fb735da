"""Tables and wire schemas. Importing the package registers every table."""

from models import access, audience, channels, enrollment, journey, offers, workers  # noqa: F401
