"""Registration's use cases, one module per area."""
