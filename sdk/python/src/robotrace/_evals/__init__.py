"""The replay harness behind ``robotrace.evals`` (and the release gate in ``robotrace._verify``)."""
