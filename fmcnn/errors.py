"""The base class of fmcnn's expected errors."""


class FmcnnError(Exception):
    """A problem with the user's files, data or options, not a bug in fmcnn.

    Its message says what went wrong and what to do (naming the file concerned),
    so the ``fmcnn`` command line prints it as one line on stderr, without a
    traceback, and exits with status 2. Each subclass also derives from the
    built-in exception that fits (``ValueError``, ``FileNotFoundError``, ...),
    so code that caught those before still catches them.
    """
