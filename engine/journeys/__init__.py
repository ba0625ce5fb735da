"""The journey definition: lifecycle, validation, layout and what a journey may refer to."""
