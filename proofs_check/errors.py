"""Errors that the command line turns into exit codes."""


class UsageError(Exception):
    """Bad input or configuration: exit 2 with one line naming the flag or key and what is allowed."""
