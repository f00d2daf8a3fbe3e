"""``python -m robotrace.cli ...`` runs the CLI, as with the official SDK.

``robotrace/cli.py`` only re-exports (the package layout), so it has no ``if __name__ == "__main__":``
block; it imports this module, which runs the CLI when that module is the one Python was asked to run.
Importing ``robotrace.cli`` any other way does nothing here.
"""

from __future__ import annotations

import sys

_running = sys.modules.get("__main__")
if getattr(getattr(_running, "__spec__", None), "name", None) == "robotrace.cli":
    from .commands import main

    main()
