"""Activity's use cases, by area."""
