"""Convex JSON: how values are written as JSON (convex-semantics.md §1.1).

Used wherever a value leaves Python: the trace's JSON lines, the SQLite
store's documents and validator JSON. int64 values, non-finite and negative
zero floats and bytes get tagged objects (``{"$integer": base64}``, ...), so
every value round-trips exactly.
"""

from __future__ import annotations

import base64
import math
import struct
from typing import Any

from convex_sim.errors import InvalidValueError
from convex_sim.values import COMMIT_TS, Id, type_name


def to_json(value: Any) -> Any:
    """Convex JSON: int64 as ``{"$integer": b64}``, non-finite/−0 floats as ``{"$float": b64}``."""
    if value is None or isinstance(value, bool | str):
        return str(value) if isinstance(value, Id) else value
    if value is COMMIT_TS:
        return {"$commitTs": True}
    if isinstance(value, int):
        return {"$integer": base64.b64encode(struct.pack("<q", value)).decode()}
    if isinstance(value, float):
        if math.isfinite(value) and not (value == 0 and math.copysign(1, value) < 0):
            return value
        return {"$float": base64.b64encode(struct.pack("<d", value)).decode()}
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode()}
    if isinstance(value, list):
        return [to_json(item) for item in value]
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    raise InvalidValueError(f"{type_name(value)} cannot be written as Convex JSON")


def from_json(data: Any) -> Any:
    """The inverse of :func:`to_json` (ids come back as plain strings)."""
    if data is None or isinstance(data, bool | str):
        return data
    if isinstance(data, int):
        # Plain JSON numbers are float64 in Convex JSON.
        return float(data)
    if isinstance(data, float):
        return data
    if isinstance(data, list):
        return [from_json(item) for item in data]
    if isinstance(data, dict):
        if len(data) == 1:
            ((key, payload),) = data.items()
            if key == "$integer":
                return struct.unpack("<q", base64.b64decode(payload))[0]
            if key == "$float":
                return struct.unpack("<d", base64.b64decode(payload))[0]
            if key == "$bytes":
                return base64.b64decode(payload)
            if key == "$commitTs":
                return COMMIT_TS
        return {key: from_json(item) for key, item in data.items()}
    raise InvalidValueError(f"{type(data).__name__} is not Convex JSON")
