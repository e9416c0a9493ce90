"""Request body parsers for the API. Kept out of config.api because DRF reads
DEFAULT_PARSER_CLASSES while rest_framework.views is still loading."""

from __future__ import annotations

import re
from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

# A UTF-16 surrogate on its own: JSON's "\ud800" escape decodes to one, and no UTF-8 encoder
# (the response renderer, PostgreSQL's driver) accepts it afterwards.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _has_lone_surrogate(data: Any) -> bool:
    # Iterative: a document nested close to the recursion limit must not blow the stack here.
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _LONE_SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, plus 400s for what it lets through as 500s: documents nested
    deeper than Python's recursion limit, and strings that are not valid Unicode."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply.") from None
        if _has_lone_surrogate(data):
            raise ParseError(
                "JSON parse error - a string contains an unpaired \\uD800-\\uDFFF escape."
            )
        return data
