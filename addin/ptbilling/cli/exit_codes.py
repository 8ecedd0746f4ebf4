"""The exit statuses every ``ptbilling`` command returns.

They live below the commands (which import them) and the parser (which maps
exceptions to them), so no command needs to import the parser back.
"""
from __future__ import annotations

EXIT_OK = 0  # fine; warnings allowed
EXIT_FINDINGS = 1  # at least one ERROR finding
EXIT_UNUSABLE = 2  # the input (or an option) cannot be used
EXIT_INTERRUPTED = 130  # Ctrl+C, as shells report SIGINT
