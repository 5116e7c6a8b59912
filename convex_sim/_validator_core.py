"""The validator base class and the leaf kinds, ``v.string()`` to ``v.literal(x)``.

Split out of ``validators.py`` (the public face, which re-exports every name
here) only to keep files short; that module's docstring describes the
two-pass design. Containers and combinators are in ``_validator_containers``.
"""

from __future__ import annotations

import abc
import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Final, NoReturn

from pydantic_core import CoreSchema, SchemaValidator, core_schema
from pydantic_core import ValidationError as CoreValidationError

from convex_sim import _validator_checks as checks
from convex_sim._validator_checks import MISMATCH, IdResolver, Reject
from convex_sim.convex_json import to_json as value_to_json
from convex_sim.errors import SchemaError, TableNameError, ValidationError
from convex_sim.values import INT64_MAX, INT64_MIN, child_path

LiteralValue = str | int | float | bool


class Validator(abc.ABC):
    """A Convex validator: immutable, and equal to another with the same structure.

    Equality and hashing go through the validator JSON (plus the optional
    flag, which the JSON of a bare ``v.optional`` does not carry), so
    ``v.number() == v.float64()`` and object field order does not matter.
    """

    __slots__ = ("_compiled", "_identity")

    is_optional: ClassVar[bool] = False
    """True only for ``v.optional(...)``; an object field with it may be absent."""

    _compiled: SchemaValidator | None
    _identity: tuple[bool, str] | None

    def __init__(self) -> None:
        object.__setattr__(self, "_compiled", None)
        object.__setattr__(self, "_identity", None)

    @abc.abstractmethod
    def describe(self) -> str:
        """This validator in ``v.*`` notation, as error messages show it."""

    @abc.abstractmethod
    def to_json(self) -> dict[str, Any]:
        """Convex's validator JSON (the inverse is :func:`validator_from_json`)."""

    @abc.abstractmethod
    def _core_schema(self) -> CoreSchema:
        """The pydantic-core schema of the fast path."""

    @abc.abstractmethod
    def _walk(self, value: Any, path: str, resolve_id: IdResolver | None) -> Any:
        """The slow path: the converted value, or the first failure as ValidationError."""

    def validate(self, value: Any, *, path: str = "", resolve_id: IdResolver | None = None) -> Any:
        """``value`` as it is to be stored, or :class:`ValidationError`.

        ``path`` prefixes the paths in errors (a caller validating one argument
        passes its name). ``resolve_id`` maps an id string to its table name,
        or ``None`` if it names no table; without it plain strings pass
        ``v.id`` unchecked. It may be called twice for one id when the value
        fails, so it must not have side effects.
        """
        compiled = self._compiled
        if compiled is None:
            compiled = SchemaValidator(self._core_schema())
            object.__setattr__(self, "_compiled", compiled)
        try:
            return compiled.validate_python(value, context=resolve_id)
        except CoreValidationError:
            pass  # diagnose outside the except block so the error has no pydantic chain
        self._walk(value, path, resolve_id)
        # Reached only if the two passes disagree, which is a bug here; still fail safe.
        self._fail(MISMATCH, path, value)

    def _fail(self, reason: str, path: str, value: Any) -> NoReturn:
        raise ValidationError(reason, path=path, value=value, validator=self.describe())

    def _structure(self) -> tuple[bool, str]:
        identity = self._identity
        if identity is None:
            text = json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))
            identity = (self.is_optional, text)
            object.__setattr__(self, "_identity", identity)
        return identity

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Validator):
            return NotImplemented
        return self._structure() == other._structure()

    def __hash__(self) -> int:
        return hash(self._structure())

    def __repr__(self) -> str:
        return self.describe()

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable; build a new validator instead")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable; build a new validator instead")

    def __copy__(self) -> Validator:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Validator:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled as JSON: the compiled schema cannot be pickled and is rebuilt on demand.
        from convex_sim.validators import _rebuild

        return (_rebuild, (self.to_json(), self.is_optional))


# --------------------------------------------------------------------------
# Leaves
# --------------------------------------------------------------------------


class _Leaf(Validator):
    """A validator whose whole rule is one function of ``_validator_checks``."""

    __slots__ = ()
    _JSON_TYPE: ClassVar[str]
    _NOTATION: ClassVar[str]
    _check: ClassVar[staticmethod[[Any], Any]]

    def describe(self) -> str:
        return self._NOTATION

    def to_json(self) -> dict[str, Any]:
        return {"type": self._JSON_TYPE}

    def _core_schema(self) -> CoreSchema:
        return core_schema.no_info_plain_validator_function(self._check)

    def _walk(self, value: Any, path: str, resolve_id: IdResolver | None) -> Any:
        try:
            return self._check(value)
        except Reject as reject:
            self._fail(reject.reason, path, value)


class StringValidator(_Leaf):
    """``v.string()``: any ``str``, ids included, that is valid Unicode."""

    __slots__ = ()
    _JSON_TYPE = "string"
    _NOTATION = "v.string()"
    _check = staticmethod(checks.check_string)


class Float64Validator(_Leaf):
    """``v.float64()`` / ``v.number()``: a float, or an int a double holds exactly."""

    __slots__ = ()
    _JSON_TYPE = "number"
    _NOTATION = "v.float64()"
    _check = staticmethod(checks.check_float64)


class Int64Validator(_Leaf):
    """``v.int64()``: an ``int`` (never a bool or a float) in the int64 range."""

    __slots__ = ()
    _JSON_TYPE = "bigint"
    _NOTATION = "v.int64()"
    _check = staticmethod(checks.check_int64)


class CommitTsValidator(_Leaf):
    """``v.commit_ts()``: an int64 or ``ctx.db.vars.commit_ts`` (§4.8)."""

    __slots__ = ()
    _JSON_TYPE = "commitTs"
    _NOTATION = "v.commitTs()"
    _check = staticmethod(checks.check_commit_ts)


class BooleanValidator(_Leaf):
    """``v.boolean()``: ``True`` or ``False`` only."""

    __slots__ = ()
    _JSON_TYPE = "boolean"
    _NOTATION = "v.boolean()"
    _check = staticmethod(checks.check_boolean)

    def _core_schema(self) -> CoreSchema:
        # A built-in is faster than a Python call, and bool has no subclasses to worry about.
        return core_schema.bool_schema(strict=True)


class NullValidator(_Leaf):
    """``v.null()``: ``None`` only."""

    __slots__ = ()
    _JSON_TYPE = "null"
    _NOTATION = "v.null()"
    _check = staticmethod(checks.check_null)

    def _core_schema(self) -> CoreSchema:
        return core_schema.none_schema()


class BytesValidator(_Leaf):
    """``v.bytes()``: ``bytes`` only (not ``bytearray``)."""

    __slots__ = ()
    _JSON_TYPE = "bytes"
    _NOTATION = "v.bytes()"
    _check = staticmethod(checks.check_bytes)


class AnyValidator(_Leaf):
    """``v.any()``: any Convex value, returned as a deep copy."""

    __slots__ = ()
    _JSON_TYPE = "any"
    _NOTATION = "v.any()"
    _check = staticmethod(checks.check_any)

    def _walk(self, value: Any, path: str, resolve_id: IdResolver | None) -> Any:
        try:
            return checks.check_any(value)
        except Reject as reject:
            # check_value reports where inside the value it failed; point there.
            self._fail(reject.reason, path + reject.subpath, _locate(value, reject.subpath))


def _locate(value: Any, subpath: str) -> Any:
    """The part of ``value`` that ``subpath`` (built by ``child_path``) names."""
    while subpath:
        if type(value) is list:
            children: Any = enumerate(value)
        elif type(value) is dict:
            children = value.items()
        else:
            break
        for key, child in children:
            step = child_path("", key)
            if subpath == step or subpath.startswith((f"{step}.", f"{step}[")):
                value, subpath = child, subpath[len(step) :]
                break
        else:
            break
    return value


_TABLE_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


class IdValidator(Validator):
    """``v.id(table)``: an id of that table (see ``_validator_checks.check_id``)."""

    __slots__ = ("table_name",)
    table_name: str

    def __init__(self, table_name: str) -> None:
        if not isinstance(table_name, str):
            raise TypeError(f"v.id() takes a table name, got {_what(table_name)}")
        if not _TABLE_NAME.fullmatch(table_name) or not table_name.strip("_"):
            raise TableNameError(
                f"v.id({table_name!r}): a table name is an identifier "
                "([A-Za-z_][A-Za-z0-9_]*, at most 64 characters, not only underscores)"
            )
        super().__init__()
        object.__setattr__(self, "table_name", table_name)

    def describe(self) -> str:
        return f"v.id({json.dumps(self.table_name)})"

    def to_json(self) -> dict[str, Any]:
        return {"type": "id", "tableName": self.table_name}

    def _core_schema(self) -> CoreSchema:
        # The resolver travels as the pydantic-core validation context.
        return core_schema.with_info_plain_validator_function(self._check_with_context)

    def _check_with_context(self, value: Any, info: core_schema.ValidationInfo) -> Any:
        return checks.check_id(value, self.table_name, info.context)

    def _walk(self, value: Any, path: str, resolve_id: IdResolver | None) -> Any:
        try:
            return checks.check_id(value, self.table_name, resolve_id)
        except Reject as reject:
            self._fail(reject.reason, path, value)


class LiteralValidator(Validator):
    """``v.literal(x)``: exactly ``x`` by Convex equality (``1`` is not ``1.0`` or ``True``)."""

    __slots__ = ("_match", "value")
    value: LiteralValue
    _match: Callable[[Any], Any]

    def __init__(self, value: LiteralValue) -> None:
        literal = _normalize_literal(value)
        super().__init__()
        object.__setattr__(self, "value", literal)
        object.__setattr__(self, "_match", checks.literal_matcher(literal))

    def describe(self) -> str:
        return f"v.literal({_literal_text(self.value)})"

    def to_json(self) -> dict[str, Any]:
        return {"type": "literal", "value": value_to_json(self.value)}

    def _core_schema(self) -> CoreSchema:
        return core_schema.no_info_plain_validator_function(self._match)

    def _walk(self, value: Any, path: str, resolve_id: IdResolver | None) -> Any:
        try:
            return self._match(value)
        except Reject as reject:
            self._fail(reject.reason, path, value)


def _normalize_literal(value: object) -> LiteralValue:
    """The literal as an exact str/int/float/bool, so a str/int enum member works."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        number = int.__int__(value)
        if not INT64_MIN <= number <= INT64_MAX:
            raise SchemaError(f"v.literal({number}): an int literal is an int64 and must fit")
        return number
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, str):
        text = str.__str__(value)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise SchemaError(f"v.literal({text!r}): the string is not valid Unicode") from None
        return text
    raise TypeError(f"v.literal() takes a str, int, float or bool, got {_what(value)}")


def _literal_text(value: LiteralValue) -> str:
    # JavaScript notation, so int64 literals read as bigints: v.literal(5n) vs v.literal(5.0).
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value}n"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


def _what(obj: object) -> str:
    text = repr(obj)
    return f"{type(obj).__name__} {text[:60]}{'...' if len(text) > 60 else ''}"


_TYPE_HINTS: Final[dict[object, str]] = {
    str: "v.string()",
    int: "v.int64()",
    float: "v.float64()",
    bool: "v.boolean()",
    bytes: "v.bytes()",
    None: "v.null()",
}


def _require_validator(obj: object, where: str) -> Validator:
    if isinstance(obj, Validator):
        return obj
    hint = ""
    if isinstance(obj, Mapping):
        hint = "; wrap a nested dict in v.object({...})"
    elif (obj is None or isinstance(obj, type)) and obj in _TYPE_HINTS:
        hint = f"; did you mean {_TYPE_HINTS[obj]}?"
    raise TypeError(f"{where} must be a validator such as v.string(), got {_what(obj)}{hint}")


def _require_plain_validator(obj: object, where: str) -> Validator:
    """A validator that is not ``v.optional``, which only means something on an object field."""
    validator = _require_validator(obj, where)
    if validator.is_optional:
        raise SchemaError(
            f"{where} cannot be {validator.describe()}: v.optional() is only allowed "
            "for object fields (for a value that may be null use v.union(x, v.null()))"
        )
    return validator
