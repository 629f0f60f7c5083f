"""Commendation's use cases, one module per area (see ``application.py``)."""
