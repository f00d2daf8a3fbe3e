"""The ``robotrace`` command line (public names in ``robotrace.cli``)."""
