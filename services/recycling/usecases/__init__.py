"""Recycling's use cases by area."""
