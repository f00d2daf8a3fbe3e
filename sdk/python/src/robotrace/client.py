"""``Client``: one deployment, one connection pool (implemented in ``robotrace._client``)."""

from ._client import Client

__all__ = ["Client"]
