"""Hours' own errors: the kernel's hierarchy (services.common.errors) covers
every status but one that only a service calling another meets."""

from __future__ import annotations

from typing import ClassVar

from services.common.errors import ZhiyuanError


class Unavailable(ZhiyuanError):
    """A service this call depends on (registration) did not answer in time.

    Example:
        >>> Unavailable("registration did not answer", "注册服务无响应").code
        'UNAVAILABLE'
    """

    code: ClassVar[str] = "UNAVAILABLE"
