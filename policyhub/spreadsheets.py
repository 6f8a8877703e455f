"""Cells that are safe to open in a spreadsheet program: the one place exports neutralise formulas.

A text cell starting with = + - @ (or a tab or carriage return, which some programs skip before
reading one of those) runs as a formula when a CSV or XLSX file is opened: `=HYPERLINK(...)` in a
criterion would become a live link. Such a cell is written with a leading apostrophe, which keeps it
text; numbers (-0.5) are left as they are. Every export (admin CSV/XLSX/JSON, page downloads) goes
through `formula_safe`; admin imports remove the apostrophe again (`formula_restored`), so a file
exported and imported back is unchanged.
"""

import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
GUARD = "'"
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def formula_safe(value):
    """The value, with a text that a spreadsheet would run as a formula turned into plain text."""
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_STARTS) and not NUMBER.fullmatch(value):
        return GUARD + value
    return value


def formula_restored(value):
    """Undo `formula_safe` on a cell read back from an exported file."""
    if isinstance(value, str) and value.startswith(GUARD) and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value
