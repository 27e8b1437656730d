"""Errors a user can act on: the CLI prints them as one line, without a traceback."""


class LoadError(Exception):
    """A problem with the input (layout, file, column) that the user must fix."""
