"""Reading pages and seed briefs the way a reader does: visible text, table rows, sentences."""

import re
from html.parser import HTMLParser
from pathlib import Path

BLOCK_TAGS = {
    "p", "div", "section", "article", "aside", "header", "footer", "main", "nav", "ul", "ol", "li", "dl", "dt", "dd",
    "table", "thead", "tbody", "tr", "td", "th", "h1", "h2", "h3", "h4", "br", "form", "label", "fieldset", "legend",
}  # fmt: skip
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9])")


class _TextParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.skip = [], 0
        self.tables, self._table, self._rows, self._row, self._cell = {}, None, None, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "style"):
            self.skip += 1
        self._space(tag)
        if tag == "table":
            self._table, self._rows = attrs.get("id"), []
        elif tag == "tr" and self._rows is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip -= 1
        self._space(tag)
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(normalise("".join(self._cell)))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self._rows.append(self._row)
            self._row = None
        elif tag == "table" and self._rows is not None:
            if self._table:
                self.tables[self._table] = self._rows
            self._table, self._rows = None, None

    def _space(self, tag):
        if tag in BLOCK_TAGS:
            self.parts.append(" ")
            if self._cell is not None:
                self._cell.append(" ")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)
            if self._cell is not None:
                self._cell.append(data)


def normalise(text: str) -> str:
    return " ".join(text.split())


def _parse(html) -> _TextParser:
    parser = _TextParser()
    parser.feed(html.decode() if isinstance(html, bytes) else html)
    return parser


def page_text(html) -> str:
    """The text a reader sees, with whitespace collapsed and entities decoded."""
    return normalise("".join(_parse(html).parts))


def table_rows(html, table_id: str) -> list[list[str]]:
    """The rows (header row included) of the table with this id, each a list of cell texts."""
    return _parse(html).tables.get(table_id, [])


def sentences(line: str) -> list[str]:
    return [part for part in SENTENCE_END.split(line.strip()) if part]


class SeedBrief:
    """One seed brief: its code, its section headings, its prose sentences and its modifier rows."""

    HEADINGS = ("Summary & Overview", "Billing Code Overview", "Clinical & Coding Specifications")

    def __init__(self, path: Path):
        self.path = path
        self.prose: list[str] = []
        self.modifier_rows: list[list[str]] = []
        in_table = False
        for line in (raw.strip() for raw in path.read_text(encoding="utf-8").splitlines()):
            if not line or line == "-":
                continue
            if line.startswith("| Modifier |"):
                in_table = True
            elif in_table and set(line) <= {"|", "-"}:
                continue
            elif in_table:
                self.modifier_rows.append([cell.strip() for cell in line.split("|") if cell.strip()])
            else:
                self.prose.append(line)
        self.code = re.search(r"\bCPT (\d{5})\b", " ".join(self.prose)).group(1)

    @property
    def sentences(self) -> list[str]:
        return [sentence for line in self.prose for sentence in sentences(line)]


def seed_briefs(seeds_dir: Path) -> dict[str, SeedBrief]:
    briefs = [SeedBrief(path) for path in sorted(seeds_dir.glob("*.txt"))]
    return {brief.code: brief for brief in briefs}
