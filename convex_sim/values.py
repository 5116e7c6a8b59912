"""Convex values in Python: the type mapping, ids, the total order, sizes and limits.

Implements convex-semantics.md §1.1–§1.6. The mapping (written down in
``docs/values.md``):

=============  ===========================================================
Convex         Python
=============  ===========================================================
null           ``None``
int64          ``int`` (not ``bool``), range-checked to −2^63..2^63−1
float64        ``float`` (every IEEE double: NaN, ±inf, −0.0)
boolean        ``bool``
string         ``str`` (valid Unicode: no lone surrogates)
bytes          ``bytes``
array          ``list``
object         ``dict`` with ``str`` keys
Id             :class:`Id`, a ``str`` that also knows its table
=============  ===========================================================

An ``int`` is always an int64 *value*; a float64 *validator* accepts an ``int``
that a double represents exactly and stores it as ``float`` (see
``validators.py``). Python's ``==`` is the wrong equality for Convex values
(``1 == 1.0 == True``, ``-0.0 == 0.0``, ``nan != nan``), so use
:func:`values_equal` and :func:`compare`. Ids are encoded in ``ids.py`` and
values written as JSON in ``convex_json.py``.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any, Final, TypeAlias

from convex_sim.errors import InvalidValueError
from convex_sim.ids import ID_RANDOM_BYTES as ID_RANDOM_BYTES  # re-exported: ids live there
from convex_sim.ids import Id as Id
from convex_sim.ids import decode_id_string as decode_id_string
from convex_sim.ids import make_id_string as make_id_string

INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1

MAX_ARRAY_LENGTH: Final = 8192
MAX_OBJECT_FIELDS: Final = 1024
MAX_FIELD_NAME_LENGTH: Final = 1024
MAX_TOP_LEVEL_FIELD_NAME_LENGTH: Final = 64
MAX_VALUE_NESTING: Final = 64
MAX_DOCUMENT_NESTING: Final = 16
MAX_DOCUMENT_SIZE: Final = 1 << 20

SYSTEM_FIELDS: Final = ("_id", "_creationTime")

Value: TypeAlias = Any
"""A Convex value. Typed as ``Any`` because the recursive union buys nothing
at call sites; :func:`check_value` is what enforces the shape."""

Document: TypeAlias = dict[str, Any]


class _Singleton:
    """A named marker with one instance that survives copy and pickle as itself."""

    _name: str = ""

    def __new__(cls) -> _Singleton:
        instance = cls.__dict__.get("_instance")
        if instance is None:
            instance = super().__new__(cls)
            cls._instance = instance
        return instance

    def __repr__(self) -> str:
        return self._name

    def __reduce__(self) -> str:
        return self._name


class _Missing(_Singleton):
    """The absent field ("undefined"): sorts below null, indexes as lowest."""

    _name = "MISSING"


MISSING: Final = _Missing()


class _CommitTs(_Singleton):
    """``ctx.db.vars.commit_ts``: stands for the commit timestamp until the commit (§4.8).

    Written into a document it becomes, at commit, the transaction's commit
    timestamp as int64 nanoseconds. Until then it reads back as itself, counts
    as int64 max for index order, and refuses arithmetic.
    """

    _name = "COMMIT_TS"


COMMIT_TS: Final = _CommitTs()


def contains_commit_ts(value: Any) -> bool:
    """Whether the placeholder occurs anywhere in ``value`` (checked on every result)."""
    if value is COMMIT_TS:
        return True
    kind = type(value)
    if kind is dict:
        items: Any = value.values()
    elif kind is list:
        items = value
    else:
        return False
    for item in items:
        if item is COMMIT_TS:
            return True
        kind = type(item)
        if (kind is dict or kind is list) and contains_commit_ts(item):
            return True
    return False


def resolve_commit_ts(value: Any, ts: int) -> Any:
    """``value`` with every commit-timestamp placeholder replaced by ``ts``."""
    if value is COMMIT_TS:
        return ts
    kind = type(value)
    if kind is dict:
        return {key: resolve_commit_ts(item, ts) for key, item in value.items()}
    if kind is list:
        return [resolve_commit_ts(item, ts) for item in value]
    return value


# --------------------------------------------------------------------------
# Type names and checks
# --------------------------------------------------------------------------


def type_name(value: Any) -> str:
    """The Convex name of a Python value's type, for error messages."""
    if value is None:
        return "null"
    if value is MISSING:
        return "undefined"
    if value is COMMIT_TS:
        return "commit timestamp placeholder"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bytes):
        return "bytes"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return f"Python {type(value).__name__} (not a Convex value)"


def check_field_name(name: Any, *, path: str) -> None:
    if not isinstance(name, str):
        raise InvalidValueError(
            f"Object field names must be strings, got {type(name).__name__} {name!r}",
            path=path,
        )
    if len(name) > MAX_FIELD_NAME_LENGTH:
        raise InvalidValueError(
            f"Field name {name[:40]!r}... is longer than {MAX_FIELD_NAME_LENGTH} characters",
            path=path,
        )
    if name.startswith("$"):
        raise InvalidValueError(
            f"Field name {name!r} starts with a '$', which is reserved", path=path
        )
    for char in name:
        if not " " <= char <= "~":
            raise InvalidValueError(
                f"Field name {name!r} has {char!r}: field names must be printable ASCII",
                path=path,
            )


def _child_path(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    if key.isidentifier():
        return f"{path}.{key}"
    return f"{path}[{key!r}]"


child_path = _child_path


def check_value(value: Any, *, path: str = "", max_depth: int = MAX_VALUE_NESTING) -> None:
    """Raise :class:`InvalidValueError` unless ``value`` is a Convex value.

    Checks types, the int64 range, valid Unicode, field names, array length,
    field count and nesting depth (§1.1, §1.4, §1.5).

    A quick pass without path bookkeeping runs first; only when it finds a
    problem does the slower pass run to name the exact path.
    """
    if not _valid(value, max_depth):
        _check(value, path, max_depth, max_depth)


_PLAIN_SCALARS: Final = frozenset({type(None), bool, float, bytes, Id})
_FIELD_NAME_CHARS: Final = frozenset(chr(c) for c in range(0x20, 0x7F))


def _valid(value: Any, depth_left: int) -> bool:
    """True when ``value`` is certainly a Convex value (the quick pass of ``check_value``)."""
    kind = type(value)
    if kind is dict:
        return _valid_object(value, depth_left)
    if kind in _PLAIN_SCALARS:
        return True
    if kind is str:
        return value.isascii() or _unicode_ok(value)
    if kind is int:
        return bool(INT64_MIN <= value <= INT64_MAX)
    if kind is list:
        if depth_left <= 0 or len(value) > MAX_ARRAY_LENGTH:
            return False
        return all(_valid(item, depth_left - 1) for item in value)
    return value is COMMIT_TS


_KNOWN_FIELD_NAMES_LIMIT: Final = 4096
_known_field_names: set[str] = set()
"""Field names already found legal. Documents repeat the same few names, and a
set lookup is cheaper than checking every character again; emptied when full."""


def _valid_object(value: dict[Any, Any], depth_left: int) -> bool:
    """``_valid`` for a ``dict``, with the common leaves checked inline (no call per field)."""
    if depth_left <= 0 or len(value) > MAX_OBJECT_FIELDS:
        return False
    known = _known_field_names
    for key, item in value.items():
        if not (type(key) is str and key in known):
            if (
                type(key) is not str
                or len(key) > MAX_FIELD_NAME_LENGTH
                or key.startswith("$")
                or not _FIELD_NAME_CHARS.issuperset(key)
            ):
                return False
            if len(known) >= _KNOWN_FIELD_NAMES_LIMIT:
                known.clear()
            known.add(key)
        kind = type(item)
        if kind is float or kind is Id or item is None or kind is bool:
            continue
        if kind is str:
            if item.isascii() or _unicode_ok(item):
                continue
            return False
        if not _valid(item, depth_left - 1):
            return False
    return True


def _unicode_ok(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _too_deep(path: str, limit: int) -> InvalidValueError:
    what = "a document" if limit == MAX_DOCUMENT_NESTING else "a value"
    return InvalidValueError(
        f"Value is nested too deeply: {what} may nest arrays and objects {limit} levels deep",
        path=path,
    )


def _check(value: Any, path: str, depth_left: int, limit: int) -> None:
    kind = type(value)
    if value is None or kind is bool or kind is float or kind is bytes or kind is Id:
        return
    if value is COMMIT_TS:
        return
    if kind is str:
        _check_unicode(value, path)
        return
    if kind is int:
        if not INT64_MIN <= value <= INT64_MAX:
            raise InvalidValueError(f"Integer {value} does not fit in an int64", path=path)
        return
    if kind is list:
        if depth_left <= 0:
            raise _too_deep(path, limit)
        if len(value) > MAX_ARRAY_LENGTH:
            raise InvalidValueError(
                f"Array has {len(value)} elements; the limit is {MAX_ARRAY_LENGTH}", path=path
            )
        for index, item in enumerate(value):
            _check(item, _child_path(path, index), depth_left - 1, limit)
        return
    if kind is dict:
        if depth_left <= 0:
            raise _too_deep(path, limit)
        if len(value) > MAX_OBJECT_FIELDS:
            raise InvalidValueError(
                f"Object has {len(value)} fields; the limit is {MAX_OBJECT_FIELDS}", path=path
            )
        for key, item in value.items():
            check_field_name(key, path=path)
            _check(item, _child_path(path, key), depth_left - 1, limit)
        return
    # Subclasses (other than Id) are rejected on purpose: a value must survive
    # a round trip through storage unchanged, and a subclass would not.
    if isinstance(value, str):
        _check_unicode(value, path)
        return
    if value is MISSING:
        raise InvalidValueError(
            "undefined is not a Convex value (omit the field instead)", path=path
        )
    if isinstance(value, tuple):
        raise InvalidValueError("Tuples are not Convex values; use a list", path=path)
    raise InvalidValueError(f"{type_name(value)} cannot be stored", path=path)


def _check_unicode(text: str, path: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InvalidValueError(
            f"String contains a lone surrogate at index {error.start}; "
            "strings must be valid Unicode",
            path=path,
        ) from None


# --------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------


def check_document_fields(doc: Mapping[str, Any], *, table: str, allow_system: bool) -> None:
    """Top-level field rules (§1.4): ≤ 64 chars, no ``_`` prefix except system fields."""
    for name in doc:
        if (
            type(name) is str
            and len(name) <= MAX_TOP_LEVEL_FIELD_NAME_LENGTH
            and (not name.startswith("_") or (allow_system and name in SYSTEM_FIELDS))
        ):
            continue  # the usual case, decided without building the message text
        where = f"in table {table!r}"
        if not isinstance(name, str):
            raise InvalidValueError(f"Document field names must be strings {where}, got {name!r}")
        if name.startswith("_"):
            if name in SYSTEM_FIELDS and allow_system:
                continue
            raise InvalidValueError(
                f"Field {name!r} {where} starts with '_', which is reserved for system fields"
            )
        if len(name) > MAX_TOP_LEVEL_FIELD_NAME_LENGTH:
            raise InvalidValueError(
                f"Top-level field {name[:40]!r}... {where} is longer than "
                f"{MAX_TOP_LEVEL_FIELD_NAME_LENGTH} characters"
            )


def check_document(doc: Mapping[str, Any], *, table: str) -> int:
    """A complete stored document: field rules, value rules, depth 16 and 1 MiB (§1.5).

    Returns the document's size, which the bytes-written limit counts.
    """
    check_document_fields(doc, table=table, allow_system=True)
    # Only another Mapping needs the copy into a dict; neither check changes its argument.
    plain = doc if type(doc) is dict else dict(doc)
    check_value(plain, max_depth=MAX_DOCUMENT_NESTING)
    size = value_size(plain)
    if size > MAX_DOCUMENT_SIZE:
        raise InvalidValueError(
            f"Document in table {table!r} is {size} bytes; the limit is {MAX_DOCUMENT_SIZE}"
        )
    return size


def is_flat_value(item: Any) -> bool:
    """True when ``item`` is a scalar that ``check_value`` accepts (no call needed for it)."""
    kind = type(item)
    if kind is float or kind is Id or kind is bool or item is None:
        return True
    if kind is str:
        return bool(item.isascii())
    if kind is int:
        return bool(INT64_MIN <= item <= INT64_MAX)
    return False


def value_size(value: Any) -> int:
    """Size as Convex counts it for limits (§1.5).

    Every function call sizes its arguments and result and every read and
    write sizes a document, so the usual shapes are sized inline: a dict's
    number and string leaves without a call each, and a list of strings (ids,
    mostly) in one join. Anything else goes through :func:`_general_size`, the
    definition these shortcuts must agree with.
    """
    kind = type(value)
    if kind is dict:
        size = 2
        for key, item in value.items():
            kind = type(item)
            if kind is float or kind is int:
                size += 10 + (len(key) if key.isascii() else len(key.encode()))
            elif kind is str or kind is Id:
                size += (
                    3
                    + (len(key) if key.isascii() else len(key.encode()))
                    + (len(item) if item.isascii() else len(item.encode("utf-8")))
                )
            else:
                size += 1 + (len(key) if key.isascii() else len(key.encode())) + value_size(item)
        return size
    if kind is float or kind is int:
        return 9
    if kind is str or kind is Id:
        return 2 + (len(value) if value.isascii() else len(value.encode("utf-8")))
    if value is None:
        return 1
    if kind is list:
        return _list_size(value)
    return _general_size(value)


def _list_size(value: list[Any]) -> int:
    if value and (type(value[0]) is str or type(value[0]) is Id):
        # All strings, as a list of ids is: each costs 2 plus its UTF-8 length.
        try:
            text = "".join(value)
            return 2 + 2 * len(value) + (len(text) if text.isascii() else len(text.encode()))
        except (TypeError, UnicodeEncodeError):
            pass  # not all strings, or a lone surrogate: the loop below raises as before
    size = 2
    for item in value:
        kind = type(item)
        if kind is float or kind is int:
            size += 9
        elif kind is str or kind is Id:
            size += 2 + (len(item) if item.isascii() else len(item.encode("utf-8")))
        else:
            size += value_size(item)
    return size


def _general_size(value: Any) -> int:
    """``value_size`` by the plain recursive definition, for every type."""
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, int | float) or value is COMMIT_TS:
        return 9
    if isinstance(value, str):
        return 2 + len(value.encode("utf-8"))
    if isinstance(value, bytes):
        return 2 + len(value)
    if isinstance(value, list):
        return 2 + sum(value_size(item) for item in value)
    if isinstance(value, dict):
        return 2 + sum(len(k.encode()) + 1 + value_size(item) for k, item in value.items())
    raise InvalidValueError(f"{type_name(value)} has no Convex size")


def copy_value(value: Any) -> Any:
    """A deep copy of a Convex value, cheap for scalars.

    Documents handed to user code are copies, so a handler that mutates what
    it read cannot corrupt the store. Scalars are immutable and shared, so a
    container is copied flat and only its nested containers are copied again.
    """
    kind = type(value)
    if kind is dict:
        copied = value.copy()
        for key, item in copied.items():
            kind = type(item)
            if kind is dict or kind is list:
                copied[key] = copy_value(item)  # replaces a value: safe while iterating
        return copied
    if kind is list:
        return [
            copy_value(item) if type(item) is dict or type(item) is list else item for item in value
        ]
    return value


# --------------------------------------------------------------------------
# Total order (§1.2, §1.3)
# --------------------------------------------------------------------------

_RANK_MISSING, _RANK_NULL, _RANK_INT, _RANK_FLOAT, _RANK_BOOL = 0, 1, 2, 3, 4
_RANK_STR, _RANK_BYTES, _RANK_ARRAY, _RANK_OBJECT = 5, 6, 7, 8


def _rank(value: Any) -> int:
    if value is MISSING:
        return _RANK_MISSING
    if value is None:
        return _RANK_NULL
    if value is COMMIT_TS:
        return _RANK_INT
    if isinstance(value, bool):
        return _RANK_BOOL
    if isinstance(value, int):
        return _RANK_INT
    if isinstance(value, float):
        return _RANK_FLOAT
    if isinstance(value, str):
        return _RANK_STR
    if isinstance(value, bytes):
        return _RANK_BYTES
    if isinstance(value, list):
        return _RANK_ARRAY
    if isinstance(value, dict):
        return _RANK_OBJECT
    raise InvalidValueError(f"{type_name(value)} has no place in the Convex order")


_unpack_u64 = struct.Struct(">Q").unpack
_pack_f64 = struct.Struct(">d").pack


def float_total_order_key(value: float) -> int:
    """An unsigned integer that orders doubles as IEEE 754 ``totalOrder`` does."""
    bits: int = _unpack_u64(_pack_f64(value))[0]
    if bits & (1 << 63):
        return bits ^ 0xFFFF_FFFF_FFFF_FFFF
    return bits | (1 << 63)


def _cmp(a: Any, b: Any) -> int:
    return int(a > b) - int(a < b)


def compare(a: Any, b: Any) -> int:
    """−1, 0 or 1 as ``a`` sorts before, with, or after ``b`` in Convex order.

    ``MISSING`` (an absent field) is accepted on either side.
    """
    rank_a, rank_b = _rank(a), _rank(b)
    if rank_a != rank_b:
        return _cmp(rank_a, rank_b)
    if rank_a == _RANK_INT:
        return _cmp(INT64_MAX if a is COMMIT_TS else a, INT64_MAX if b is COMMIT_TS else b)
    if rank_a in (_RANK_BOOL, _RANK_BYTES):
        return _cmp(a, b)
    if rank_a == _RANK_FLOAT:
        return _cmp(float_total_order_key(a), float_total_order_key(b))
    if rank_a == _RANK_STR:
        return _cmp(a.encode("utf-8"), b.encode("utf-8"))
    if rank_a == _RANK_ARRAY:
        for item_a, item_b in zip(a, b, strict=False):
            result = compare(item_a, item_b)
            if result:
                return result
        return _cmp(len(a), len(b))
    if rank_a == _RANK_OBJECT:
        items_a = sorted(a.items(), key=lambda kv: kv[0].encode())
        items_b = sorted(b.items(), key=lambda kv: kv[0].encode())
        for (key_a, item_a), (key_b, item_b) in zip(items_a, items_b, strict=False):
            result = _cmp(key_a.encode(), key_b.encode()) or compare(item_a, item_b)
            if result:
                return result
        return _cmp(len(items_a), len(items_b))
    return 0  # MISSING and null are singletons


def values_equal(a: Any, b: Any) -> bool:
    """Convex equality: ``1`` ≠ ``1.0``, ``-0.0`` ≠ ``0.0``, identical NaNs equal."""
    if type(a) is dict and type(b) is dict and _plainly_differ(a, b):
        return False  # every patch that changes a field asks this of two documents
    return compare(a, b) == 0


def _plainly_differ(new: dict[str, Any], current: dict[str, Any]) -> bool:
    """True when the documents certainly differ in the Convex order, decided cheaply.

    Different field names, or a field holding two unequal ints or strings, or two
    unequal non-NaN floats, all mean ``values_equal`` is False. Anything else
    (ids against strings, -0.0 against 0.0, NaNs, nested values) is left to it.
    """
    if new.keys() != current.keys():
        return True
    for name, item in new.items():
        other = current[name]
        kind = type(item)
        if kind is type(other) and item != other:
            if kind is int or kind is str:
                return True
            if kind is float and item == item and other == other:
                return True
    return False
