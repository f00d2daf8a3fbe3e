"""The error an adapter raises for input it cannot turn into an episode."""

from __future__ import annotations

from .._errors import ConfigurationError


class AdapterError(ConfigurationError):
    """A file, dataset or rollout could not become an episode: a corrupt file, a missing topic or column, a
    policy that raised. The message is one line and names the input and the problem. A ``ConfigurationError``
    like the official SDK's adapter errors, so code that catches those keeps working."""
