"""Tables and wire schemas. Importing the package registers every table."""

from models import audience, channels, enrollment, journey, offers  # noqa: F401
