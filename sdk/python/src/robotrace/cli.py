"""The ``robotrace`` command line (console script ``robotrace``, or ``python -m robotrace.cli``)::

    robotrace login   [--base-url URL] [--profile NAME] [--no-browser] [--force]
    robotrace whoami  [--profile NAME] [--json]
    robotrace logout  [--profile NAME] [--revoke]
    robotrace replay run --policy module:fn --candidate-version V --baseline-episodes ID... | @file
                         [--baseline-version V] [--name LABEL] [--dry-run] [--profile NAME]
    robotrace verify check --candidate V [--policy module:fn] [--dry-run] [--profile NAME]
    robotrace episodes delete ID... [--unlink-references] [--yes] [--profile NAME]
    robotrace episodes export [--status S] [--source S] [--q TEXT] [--policy-version V] [--robot R]
                              [--created-after T] [--created-before T] [--out FILE] [--artifacts-dir DIR]
    robotrace version

``login`` authorizes this machine in the browser (a device code: the server mints an API key for your
project once you approve) and saves it to the credentials file (``$ROBOTRACE_HOME/credentials``, else
``~/.robotrace/credentials``), which the SDKs and the TypeScript CLI read too. ``cli_main(argv)`` returns
the exit code instead of exiting.
"""

from __future__ import annotations

from ._cli import as_module as _as_module  # noqa: F401 - runs the CLI under `python -m robotrace.cli`
from ._cli.commands import DEFAULT_BASE_URL, cli_main, main
from ._cli.credentials import (
    DEFAULT_PROFILE,
    StoredCredentials,
    credentials_path,
    delete_credentials,
    read_credentials,
    write_credentials,
)
from ._cli.device import DEFAULT_POLL_INTERVAL_S, LOGIN_TOTAL_TIMEOUT_S, LOGOUT_REVOKE_TIMEOUT_S
from ._errors import RobotraceError

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_POLL_INTERVAL_S",
    "DEFAULT_PROFILE",
    "LOGIN_TOTAL_TIMEOUT_S",
    "LOGOUT_REVOKE_TIMEOUT_S",
    "RobotraceError",
    "StoredCredentials",
    "cli_main",
    "credentials_path",
    "delete_credentials",
    "main",
    "read_credentials",
    "write_credentials",
]

for _value in (StoredCredentials, cli_main, credentials_path, delete_credentials, main, read_credentials):
    _value.__module__ = "robotrace.cli"
write_credentials.__module__ = "robotrace.cli"
del _value
