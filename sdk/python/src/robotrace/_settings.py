"""Environment variables and the credentials file: where the API key and base URL come from."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ._credentials import read_profile
from ._errors import ConfigurationError

ENV_API_KEY = "ROBOTRACE_API_KEY"
ENV_BASE_URL = "ROBOTRACE_BASE_URL"
ENV_QUIET = "ROBOTRACE_QUIET"
ENV_HOME = "ROBOTRACE_HOME"

_TRUE = frozenset({"1", "true", "yes", "on"})


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in _TRUE


def quiet() -> bool:
    return env_flag(ENV_QUIET)


def credentials_path() -> Path:
    """``$ROBOTRACE_HOME/credentials``, else ``~/.robotrace/credentials`` (what the CLI writes)."""
    home = os.environ.get(ENV_HOME)
    base = Path(home) if home else Path.home() / ".robotrace"
    return base / "credentials"


@dataclass(frozen=True)
class Connection:
    api_key: str
    base_url: str


def resolve_connection(api_key: str | None, base_url: str | None) -> Connection:
    """Each value from, in order: the argument, the environment, the credentials file's ``[default]``."""
    key = api_key or os.environ.get(ENV_API_KEY) or None
    base = base_url or os.environ.get(ENV_BASE_URL) or None
    path = credentials_path()
    if key is None or base is None:
        stored = read_profile(path, "default")
        key = key or stored.get("api_key") or None
        base = base or stored.get("base_url") or None
    if key is None:
        raise ConfigurationError(
            "No RoboTrace API key. Set one of: the environment variable "
            f"{ENV_API_KEY}=rt_..., rt.init(api_key='rt_...') / rt.Client(api_key='rt_...'), or "
            f'api_key = "rt_..." under [default] in {path}. Create a key in the portal under the '
            "project's API keys, or with `npm run admin -- create-key --project <name>` on the server."
        )
    if base is None:
        raise ConfigurationError(
            f"No RoboTrace base URL. Set {ENV_BASE_URL} (e.g. http://localhost:3000), pass "
            f"base_url=... to rt.init(...) / rt.Client(...), or set base_url under [default] in {path}."
        )
    base = base.strip().rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise ConfigurationError(f"RoboTrace base URL must start with http:// or https://, got {base!r}.")
    return Connection(api_key=key.strip(), base_url=base)
