"""Hours' use cases by area, each built on one shared
:class:`~services.hours.usecases.base.Context`; ``services.hours.application``
composes them."""
