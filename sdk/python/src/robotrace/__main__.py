"""``python -m robotrace ...``: the ``robotrace`` CLI."""

from ._cli.commands import main

main()
