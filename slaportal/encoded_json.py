"""JSON documents assembled from parts that were encoded already.

A month's run writes thousands of statement snapshots that share most of their text
(every customer of a service gets the same outages' entries, some hundred kilobytes).
``EncodedJSON`` is a dict that carries its own text, assembled from parts encoded once
(``object_text``), and ``EncodedJSONEncoder``, a ``JSONField``'s encoder, writes that text
instead of encoding the dict again. Every reader still sees a plain dict.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any


class EncodedJSON(dict):
    """A JSON object and its text: exactly ``json.dumps`` of it. Never changed once made
    (a statement's snapshot is an issued document)."""

    __slots__ = ("text",)

    def __init__(self, value: dict[str, Any], text: str) -> None:
        super().__init__(value)
        self.text = text


class EncodedJSONEncoder(json.JSONEncoder):
    """``json.dumps`` for every value; an ``EncodedJSON`` is written as its own text."""

    def encode(self, o: Any) -> str:
        if type(o) is EncodedJSON:
            return o.text
        return super().encode(o)


def object_text(items: Iterable[tuple[str, str]]) -> str:
    """``json.dumps`` of an object given its keys and the texts of its values."""
    return "{" + ", ".join(f"{json.dumps(key)}: {text}" for key, text in items) + "}"
