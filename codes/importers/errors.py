"""The one error every importer raises for bad input: what is wrong and where."""


class ImportFileError(Exception):
    """A file that cannot be imported; names the line (or row) and field when known."""

    def __init__(
        self, message: str, *, line: int | None = None, field: str | None = None, path=None, unit: str = "line"
    ):
        self.message = message
        self.line = line
        self.unit = unit
        self.field = field
        self.path = path
        super().__init__(str(self))

    def __str__(self):
        where = []
        if self.path is not None:
            where.append(str(self.path))
        if self.line is not None:
            where.append(f"{self.unit} {self.line}")
        if self.field:
            where.append(f"field '{self.field}'")
        return f"{', '.join(where)}: {self.message}" if where else self.message
