"""How the SQLite store writes a document as text: JSON that outside tools can read.

Why not Convex JSON (``convex_json``)? It writes every int64 as
``{"$integer": base64}``, which ``sqlite-utils``, the ``sqlite3`` shell and
SQLite's own ``json_extract`` show as an opaque string. Python's ``json``
keeps ints and floats apart by themselves (``5`` comes back an ``int``,
``5.0`` a ``float``, ``-0.0`` a negative zero), so here an int64 is a plain
JSON integer and a float64 a plain JSON number with a point or an exponent,
which is also how SQLite's JSON functions type them. Only what JSON cannot
hold is tagged, the way Convex JSON tags it: NaN (with its exact payload)
and the infinities as ``{"$float": base64}``, bytes as ``{"$bytes": base64}``.
Convex field names never start with ``$``, so a one-key ``$``-object is
always a tag.

:class:`~convex_sim.values.Id` values become their strings in the JSON; the
table each one names is kept beside it as *marks* (``[table, path]``, or
``[table, path, key]`` for a record key), so a read hands back the same
``Id`` objects the memory store would.
"""

from __future__ import annotations

import base64
import json
import math
import struct
from typing import Any

from convex_sim.values import Id

_SEPARATORS = (",", ":")


def encode_document(document: dict[str, Any]) -> tuple[str, str | None]:
    """The stored form of a document: its JSON text and its Id marks (None if none)."""
    marks: list[list[Any]] = []
    _collect_ids(document, [], marks)
    try:
        text = json.dumps(document, separators=_SEPARATORS, allow_nan=False)
    except (TypeError, ValueError):
        # bytes, NaN or an infinity somewhere: tag them (rare, so only then walk).
        text = json.dumps(_tagged(document), separators=_SEPARATORS, allow_nan=False)
    return text, (json.dumps(marks, separators=_SEPARATORS) if marks else None)


def decode_document(text: str, marks: str | None) -> dict[str, Any]:
    """The inverse of :func:`encode_document`."""
    document: dict[str, Any] = (
        json.loads(text, object_hook=_untag) if '"$' in text else json.loads(text)
    )
    if marks is not None:
        _restore_ids(document, json.loads(marks))
    return document


def readable(value: Any) -> Any:
    """A value as the stored JSON shows it (ids as strings, bytes and NaN tagged)."""
    return json.loads(json.dumps(_tagged(value), allow_nan=False))


def _tagged(value: Any) -> Any:
    kind = type(value)
    if kind is float:
        if math.isfinite(value):
            return value
        return {"$float": base64.b64encode(struct.pack("<d", value)).decode()}
    if kind is bytes:
        return {"$bytes": base64.b64encode(value).decode()}
    if kind is list:
        return [_tagged(item) for item in value]
    if kind is dict:
        return {key: _tagged(item) for key, item in value.items()}
    return value


def _untag(data: dict[str, Any]) -> Any:
    if len(data) == 1:
        ((key, payload),) = data.items()
        if key == "$float":
            return struct.unpack("<d", base64.b64decode(payload))[0]
        if key == "$bytes":
            return base64.b64decode(payload)
    return data


def _collect_ids(value: Any, path: list[Any], marks: list[list[Any]]) -> None:
    kind = type(value)
    if kind is Id:
        marks.append([value.table, path])
    elif kind is dict:
        for key, item in value.items():
            if type(key) is Id:
                marks.append([key.table, path, key])
            _collect_ids(item, [*path, key], marks)
    elif kind is list:
        for position, item in enumerate(value):
            _collect_ids(item, [*path, position], marks)


def _restore_ids(document: dict[str, Any], marks: list[list[Any]]) -> None:
    for mark in marks:
        table, path = mark[0], mark[1]
        target: Any = document
        if len(mark) == 3:
            for step in path:
                target = target[step]
            key = mark[2]
            # Rebuild the dict in place so the key becomes an Id and field order holds.
            items = list(target.items())
            target.clear()
            target.update((Id(name, table) if name == key else name, item) for name, item in items)
        else:
            for step in path[:-1]:
                target = target[step]
            target[path[-1]] = Id(target[path[-1]], table)
