"""The API's request parsers: DRF's, with a JSON body nested too deeply refused as unreadable (400).

Python's `json` raises RecursionError on a body nested some thousand levels deep, which DRF's
`JSONParser` (catching ValueError only) let through as a 500: the coverage check's POST and the
CDS Hooks services answered 500 to `{"a":{"a":...}}`.
"""

from rest_framework import exceptions, parsers


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - the body is nested too deeply.") from None
