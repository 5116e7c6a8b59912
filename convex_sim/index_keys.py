"""Order-preserving byte encoding of index keys (convex-semantics.md §1.2, §1.3, §4.2).

``encode_key(a) < encode_key(b)`` (plain ``bytes`` comparison, the same as
SQLite's BLOB comparison) exactly when the tuple ``a`` sorts before ``b`` in
the Convex order. That one property lets both stores keep indexes as sorted
byte strings and lets the read set be a list of byte intervals.

Each value is a type tag followed by a self-delimiting body, so the encoding
of a tuple is the concatenation of its elements' encodings and a prefix of
values is a byte prefix of the key:

* tags rise with the type order: missing < null < int64 < float64 < boolean <
  string < bytes < array < object;
* int64: 8 bytes big-endian with the sign bit flipped;
* float64: 8 bytes of the IEEE ``totalOrder`` key (−NaN < −inf < −0 < +0 < +inf < +NaN);
* string/bytes: the (UTF-8) bytes with ``00`` escaped as ``00 FF``, ended by ``00``;
* array: the elements' encodings, ended by ``00`` (every element starts with a
  tag ≥ 01, so a proper prefix sorts first);
* object: for each field in name order, ``01``, the escaped name and its ``00``
  terminator, then the value; ended by ``00``.

Intervals over keys are half-open ``[start, end)``; ``[KEY_MIN, KEY_MAX)`` holds every key.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any, Final

from convex_sim.errors import InvalidValueError
from convex_sim.values import COMMIT_TS, INT64_MAX, MISSING, Id, type_name

TAG_MISSING: Final = b"\x01"
TAG_NULL: Final = b"\x02"
TAG_INT64: Final = b"\x03"
TAG_FLOAT64: Final = b"\x04"
TAG_FALSE: Final = b"\x05"
TAG_TRUE: Final = b"\x06"
TAG_STRING: Final = b"\x07"
TAG_BYTES: Final = b"\x08"
TAG_ARRAY: Final = b"\x09"
TAG_OBJECT: Final = b"\x0a"

_END: Final = b"\x00"
_FIELD: Final = b"\x01"
_INT_BIAS: Final = 1 << 63
_pack_u64 = struct.Struct(">Q").pack
_unpack_u64 = struct.Struct(">Q").unpack
_pack_f64 = struct.Struct(">d").pack
_SIGN_BIT: Final = 1 << 63
_ALL_ONES: Final = (1 << 64) - 1

# Greater than every tag, so ``prefix + PREFIX_END`` bounds all keys with that prefix,
# and ``KEY_MAX`` bounds every key (each key starts with a tag).
PREFIX_END: Final = b"\xff"
KEY_MIN: Final = b""
KEY_MAX: Final = b"\xff"


def _escape(raw: bytes) -> bytes:
    return raw.replace(b"\x00", b"\x00\xff") + _END


def _encode_float(value: float) -> bytes:
    """``TAG_FLOAT64`` and the 8 bytes of ``float_total_order_key(value)``, computed inline."""
    (bits,) = _unpack_u64(_pack_f64(value))
    return TAG_FLOAT64 + _pack_u64(bits ^ _ALL_ONES if bits & _SIGN_BIT else bits | _SIGN_BIT)


def encode_value(value: Any) -> bytes:
    """The order-preserving encoding of one value (``MISSING`` allowed).

    Ids, strings and floats come first: every document key has an ``_id``
    and most have a ``_creationTime``.
    """
    kind = type(value)
    if kind is Id or kind is str:
        raw: bytes = value.encode("utf-8")
        return TAG_STRING + raw.replace(b"\x00", b"\x00\xff") + _END
    if kind is float:
        return _encode_float(value)
    if value is None:
        return TAG_NULL
    if kind is bool:
        return TAG_TRUE if value else TAG_FALSE
    if kind is int:
        return TAG_INT64 + _pack_u64(value + _INT_BIAS)
    if value is MISSING:
        return TAG_MISSING
    if value is COMMIT_TS:
        return TAG_INT64 + _pack_u64(INT64_MAX + _INT_BIAS)
    if kind is bytes:
        return TAG_BYTES + _escape(value)
    if kind is list:
        return TAG_ARRAY + b"".join([encode_value(item) for item in value]) + _END
    if kind is dict:
        parts = [TAG_OBJECT]
        for name in sorted(value, key=lambda n: n.encode("utf-8")):
            parts.append(_FIELD + _escape(name.encode("utf-8")))
            parts.append(encode_value(value[name]))
        parts.append(_END)
        return b"".join(parts)
    if isinstance(value, str):  # any other str subclass, encoded as its text
        return TAG_STRING + _escape(value.encode("utf-8"))
    raise InvalidValueError(f"{type_name(value)} cannot be part of an index key")


def encode_key(values: Sequence[Any]) -> bytes:
    """The encoding of a tuple of values: the concatenation of its elements."""
    return b"".join([encode_value(item) for item in values])


def key_successor(key: bytes) -> bytes:
    """The smallest byte string greater than ``key``: the end of ``[key, key]``."""
    return key + b"\x00"


def prefix_end(prefix: bytes) -> bytes:
    """An exclusive upper bound for every key that starts with the values in ``prefix``."""
    return prefix + PREFIX_END


def field_value(document: dict[str, Any], field_path: str) -> Any:
    """The value at a dotted field path, or ``MISSING`` when any step is absent."""
    if "." not in field_path:
        return document.get(field_path, MISSING)
    current: Any = document
    for part in field_path.split("."):
        if type(current) is not dict or part not in current:
            return MISSING
        current = current[part]
    return current


def document_key(document: dict[str, Any], key_fields: Sequence[str]) -> bytes:
    """The index key of ``document`` for an index over ``key_fields``.

    Every write computes one key per index, so plain (undotted) field names
    skip ``field_value`` and ids, strings and floats skip the call to
    ``encode_value``, encoding exactly as its first two cases do.
    """
    parts = []
    for name in key_fields:
        value = document.get(name, MISSING) if "." not in name else field_value(document, name)
        kind = type(value)
        if kind is Id or kind is str:
            raw: bytes = value.encode("utf-8")
            parts.append(TAG_STRING + raw.replace(b"\x00", b"\x00\xff") + _END)
        elif kind is float:
            parts.append(_encode_float(value))
        else:
            parts.append(encode_value(value))
    return b"".join(parts)
