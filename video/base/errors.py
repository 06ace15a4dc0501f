"""Errors that mean "the user's input is bad", shown as one `error:` line by the CLI."""


class InputError(Exception):
    """Bad user input: missing, unreadable, corrupt or wrong-kind file, bad JSON, bad values."""


class VideoError(InputError):
    """The file cannot be used as a video (missing, empty, not a video, no video stream, corrupt)."""


class Cancelled(Exception):
    """Long work stopped because the caller asked it to (cancel button, Ctrl-C)."""
