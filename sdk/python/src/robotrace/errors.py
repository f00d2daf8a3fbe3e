"""The exception tree, implemented in ``robotrace._errors``.

::

    RobotraceError
    ├── ConfigurationError
    │   └── ArgumentError
    ├── TransportError
    │   └── TimeoutError
    └── APIError
        ├── ValidationError  AuthError  NotFoundError  ConflictError
        └── RateLimitError   ServerError  URLExpiredError
"""

from ._errors import (
    APIError,
    ArgumentError,
    AuthError,
    ConfigurationError,
    ConflictError,
    NotFoundError,
    RateLimitError,
    RobotraceError,
    ServerError,
    TimeoutError,
    TransportError,
    URLExpiredError,
    ValidationError,
)

__all__ = [
    "APIError",
    "ArgumentError",
    "AuthError",
    "ConfigurationError",
    "ConflictError",
    "NotFoundError",
    "RateLimitError",
    "RobotraceError",
    "ServerError",
    "TimeoutError",
    "TransportError",
    "URLExpiredError",
    "ValidationError",
]
