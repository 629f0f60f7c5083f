"""Hours' use cases by area; ``services.hours.application`` joins them."""
