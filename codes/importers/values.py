"""Turning the text of one field into a value, or an error naming the line and the field."""

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from codes.importers.errors import ImportFileError

DATE_FORMATS = {
    "YYYYMMDD": "%Y%m%d",
    "YYYY-MM-DD": "%Y-%m-%d",
    "MM/DD/YYYY": "%m/%d/%Y",
}


def parse_date(text: str, *, formats: tuple[str, ...], line: int | None, field: str, unit: str = "line") -> date | None:
    """A date in one of the named `formats`; empty text is no date."""
    text = text.strip()
    if not text:
        return None
    for name in formats:
        try:
            return datetime.strptime(text, DATE_FORMATS[name]).date()
        except ValueError:
            continue
    raise ImportFileError(
        f"'{text}' is not a date (expected {' or '.join(formats)})", line=line, field=field, unit=unit
    )


def parse_decimal(text: str, *, line: int | None, field: str, places: int = 4, unit: str = "line") -> Decimal | None:
    """A decimal number with at most `places` decimals; empty text is no number."""
    text = text.strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise ImportFileError(f"'{text}' is not a number", line=line, field=field, unit=unit)
    if -value.as_tuple().exponent > places:
        raise ImportFileError(f"'{text}' has more than {places} decimals", line=line, field=field, unit=unit)
    return value


def check_pattern(text: str, pattern: re.Pattern, *, line: int | None, field: str, expected: str, unit="line") -> str:
    if not pattern.fullmatch(text):
        raise ImportFileError(f"'{text}' is not {expected}", line=line, field=field, unit=unit)
    return text


def check_length(text: str, limit: int, *, line: int | None, field: str, unit: str = "line") -> str:
    if len(text) > limit:
        raise ImportFileError(f"is {len(text)} characters long; at most {limit} fit", line=line, field=field, unit=unit)
    return text


def check_choice(text: str, allowed: str | set, *, line: int | None, field: str, unit: str = "line") -> str:
    if text and text not in allowed:
        raise ImportFileError(f"'{text}' is not one of {', '.join(sorted(allowed))}", line=line, field=field, unit=unit)
    return text
