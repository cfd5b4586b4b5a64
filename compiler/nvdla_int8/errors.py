"""The one exception type for bad input (malformed traces, tables, models, illegal programs).

Its message is a single line that names the file, line, layer or register and what is wrong;
the command line prints it as is, never a traceback. Imports nothing, so every layer can raise it.
"""


class InputError(ValueError):
    """Bad input, reported to the user as one line."""

    def __init__(self, message: str, *, where: str | None = None):
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)
