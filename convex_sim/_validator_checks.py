"""Per-value checks shared by the compiled fast path and the diagnosis walk.

``validators.py`` validates twice over: a pydantic-core schema for speed and,
only after that rejects, a pure-Python walk that finds the offending place.
The two must accept exactly the same values and convert them the same way, so
every rule about a single value (a leaf, or the shape of a container before
its children are looked at) lives here, once, and both paths call it: the
compiled schema wraps these functions as function validators, and the walk
calls them directly. A failing check raises :class:`Reject`, a ``ValueError``
so that pydantic-core treats it as an ordinary validation failure, carrying
the Convex-style reason the walk reports.

Types are exact (``type(x) is int``, not ``isinstance``), mirroring
:func:`convex_sim.values.check_value`: a value is returned as stored, and a
subclass such as an ``IntEnum`` member would not survive storage unchanged.
``str`` subclasses (``Id`` among them) are the exception, as they are in
``check_value``. Containers are always rebuilt, so no caller object leaks into
the store.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Final

from convex_sim.errors import InvalidValueError
from convex_sim.values import (
    COMMIT_TS,
    INT64_MAX,
    INT64_MIN,
    MAX_ARRAY_LENGTH,
    MAX_OBJECT_FIELDS,
    Id,
    check_field_name,
    check_value,
    copy_value,
    float_total_order_key,
)

MISMATCH: Final = "Value does not match validator."

IdResolver = Callable[[str], str | None]


class Reject(ValueError):
    """One check failed; ``reason`` is the message a user sees.

    ``subpath`` is set only by :func:`check_any`, whose failure may sit deep
    inside the value; it is relative to the value that was checked.
    """

    def __init__(self, reason: str = MISMATCH, subpath: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.subpath = subpath


def bare_message(error: InvalidValueError) -> str:
    """The message of ``error`` without its path: the walk reports the path separately
    (absolute, not relative to a ``v.any()``), so repeating it would say it twice."""
    return error.message


def _int_text(value: int) -> str:
    # Python refuses to print ints above 4300 digits; say how big instead.
    if value.bit_length() <= 128:
        return str(value)
    return f"of {value.bit_length()} bits"


def _require_unicode(text: str) -> None:
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise Reject(
            f"String contains a lone surrogate at index {error.start}; "
            "strings must be valid Unicode."
        ) from None


def check_string(value: Any) -> Any:
    if isinstance(value, str):
        _require_unicode(value)
        return value
    raise Reject


def float_from_int(value: int) -> float:
    """``value`` as a double, or :class:`Reject` if that would round it.

    This is the project's rule for an ``int`` given where a float64 is
    expected: Python code writes ``5`` meaning ``5.0`` as JavaScript does, but
    silently storing ``2**53 + 1`` as ``2**53`` would corrupt data.
    """
    try:
        result = float(value)
    except OverflowError:
        result = math.inf
    if math.isinf(result) or int(result) != value:
        raise Reject(
            f"Integer {_int_text(value)} has no exact float64 representation; "
            "pass a float if rounding is intended."
        )
    return result


def check_float64(value: Any) -> float:
    kind = type(value)
    if kind is float:
        return value  # type: ignore[no-any-return]
    if kind is int:
        return float_from_int(value)
    raise Reject


def check_commit_ts(value: Any) -> Any:
    """``v.commit_ts()``: an int64, or the placeholder that becomes one at commit (§4.8)."""
    if value is COMMIT_TS:
        return value
    return check_int64(value)


def check_int64(value: Any) -> int:
    if type(value) is int:
        if INT64_MIN <= value <= INT64_MAX:
            return value
        raise Reject(f"Integer {_int_text(value)} does not fit in an int64 (−2^63 to 2^63−1).")
    raise Reject


def check_boolean(value: Any) -> bool:
    if type(value) is bool:
        return value
    raise Reject


def check_null(value: Any) -> None:
    if value is not None:
        raise Reject


def check_bytes(value: Any) -> bytes:
    if type(value) is bytes:
        return value
    raise Reject


def check_any(value: Any) -> Any:
    """Any Convex value, deep-copied so the caller's containers never reach the store."""
    try:
        check_value(value)
    except InvalidValueError as error:
        raise Reject(bare_message(error), error.path) from None
    return copy_value(value)


def check_id(value: Any, table: str, resolve_id: IdResolver | None) -> Any:
    """An id string for ``table``.

    An :class:`Id` carries its table, so it is checked without the resolver. A
    plain string can only be checked by someone who knows the table numbers
    (the store, through ``resolve_id``); with no resolver it passes unchanged,
    as any string would in a client-side Convex validator.
    """
    if not isinstance(value, str):
        raise Reject
    if isinstance(value, Id):
        if value.table == table:
            return value
        raise Reject(f'Found an id for table "{value.table}"; expected Id<"{table}">.')
    _require_unicode(value)
    if resolve_id is None:
        return value
    found = resolve_id(value)
    if found is None:
        raise Reject(f'Value is not a valid id; expected Id<"{table}">.')
    if found != table:
        raise Reject(f'Found an id for table "{found}"; expected Id<"{table}">.')
    return Id(value, table)


def literal_matcher(literal: str | int | float | bool) -> Callable[[Any], Any]:
    """A check accepting exactly the values Convex-equal to ``literal``.

    Python's ``==`` would let ``True`` match ``1`` and ``0`` match ``-0.0``;
    the type tests here keep Convex's distinctions. A float literal also takes
    an ``int`` that converts exactly (the float64 rule).
    """
    if isinstance(literal, bool):

        def match_bool(value: Any) -> Any:
            if value is literal:
                return value
            raise Reject

        return match_bool
    if isinstance(literal, int):

        def match_int(value: Any) -> Any:
            if type(value) is int and value == literal:
                return value
            raise Reject

        return match_int
    if isinstance(literal, float):
        key = float_total_order_key(literal)

        def match_float(value: Any) -> Any:
            kind = type(value)
            if kind is int:
                try:
                    value = float_from_int(value)
                except Reject:
                    raise Reject from None
            elif kind is not float:
                raise Reject
            if float_total_order_key(value) == key:
                return value
            raise Reject

        return match_float

    def match_str(value: Any) -> Any:
        if isinstance(value, str) and value == literal:
            return value
        raise Reject

    return match_str


def require_list(value: Any) -> Any:
    if type(value) is not list:
        raise Reject
    if len(value) > MAX_ARRAY_LENGTH:
        raise Reject(f"Array has {len(value)} elements; the limit is {MAX_ARRAY_LENGTH}.")
    return value


def require_object(value: Any) -> Any:
    # No field-count check: the validator's own fields bound it.
    if type(value) is not dict:
        raise Reject
    return value


def require_record(value: Any) -> Any:
    if type(value) is not dict:
        raise Reject
    if len(value) > MAX_OBJECT_FIELDS:
        raise Reject(f"Object has {len(value)} fields; the limit is {MAX_OBJECT_FIELDS}.")
    return value


def check_key_name(key: Any) -> Any:
    """A record key must also be a legal field name (no ``$`` prefix, printable ASCII)."""
    try:
        check_field_name(key, path="")
    except InvalidValueError as error:
        raise Reject(bare_message(error)) from None
    return key
