"""How messages put numbers into words, so every page and admin message reads the same way."""


def counted(number: int, singular: str, plural: str | None = None) -> str:
    """`1 code`, `3 codes`, `2 policy documents`; `plural` for nouns that do not just take an s."""
    return f"{number} {singular if number == 1 else (plural or singular + 's')}"
