"""Convex validators (``v.*``, §5.5): a compiled fast path and a precise slow path.

Validation runs on every function call (arguments and return value) and on
every document write, so the usual case — the value is fine — has to be cheap.
Each validator therefore compiles, once and lazily, into a pydantic-core
``SchemaValidator`` in strict mode, and :meth:`Validator.validate` is a single
call into compiled code.

Only when that call fails does a second, pure-Python pass (``_walk``) go over
the value to find the first place that breaks the validator, and raise
:class:`~convex_sim.errors.ValidationError` with Convex's wording, the path
(``.config.debounceMs``, ``.ids[2]``), the offending sub-value and the expected
validator in ``v.*`` notation. pydantic's own error locations cannot serve:
they name union branches by schema tag and point inside function validators.

The two passes must agree. Rules about a single value live in
``_validator_checks`` and both passes call them; each class keeps its
``_core_schema`` (fast) next to its ``_walk`` (slow) so the container logic can
be compared side by side; and a hypothesis test checks agreement on random
validators and values.

The only conversions: an ``int`` given to a float64 validator (or to a float
literal) becomes the equal ``float`` when a double holds it exactly, and is
rejected otherwise; a plain ``str`` given to ``v.id(t)`` becomes an
:class:`~convex_sim.values.Id` when a ``resolve_id`` callback confirms its
table. Arrays and objects always come back as new containers. The rules, with
examples, are in ``docs/validators.md``.

This module is the public face. The code sits in three private modules so
each stays readable: ``_validator_checks`` (single-value rules shared by both
passes), ``_validator_core`` (the base class and leaf kinds) and
``_validator_containers`` (array, object, record, union, optional).
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any, Final

from convex_sim._validator_checks import IdResolver
from convex_sim._validator_containers import (
    ArrayValidator,
    ObjectValidator,
    OptionalValidator,
    RecordValidator,
    UnionValidator,
)
from convex_sim._validator_core import (
    AnyValidator,
    BooleanValidator,
    BytesValidator,
    CommitTsValidator,
    Float64Validator,
    IdValidator,
    Int64Validator,
    LiteralValidator,
    LiteralValue,
    NullValidator,
    StringValidator,
    Validator,
    _require_validator,
    _what,
)
from convex_sim.convex_json import from_json as value_from_json
from convex_sim.errors import SchemaError

__all__ = [
    "AnyValidator",
    "ArrayValidator",
    "BooleanValidator",
    "BytesValidator",
    "CommitTsValidator",
    "Float64Validator",
    "IdResolver",
    "IdValidator",
    "Int64Validator",
    "LiteralValidator",
    "LiteralValue",
    "NullValidator",
    "ObjectValidator",
    "OptionalValidator",
    "RecordValidator",
    "StringValidator",
    "UnionValidator",
    "Validator",
    "as_validator",
    "v",
    "validator_from_json",
]


_STRING: Final = StringValidator()
_FLOAT64: Final = Float64Validator()
_INT64: Final = Int64Validator()
_COMMIT_TS: Final = CommitTsValidator()
_BOOLEAN: Final = BooleanValidator()
_NULL: Final = NullValidator()
_BYTES: Final = BytesValidator()
_ANY: Final = AnyValidator()


class _ValidatorBuilders:
    """The ``v`` namespace, as in Convex's ``import { v } from "convex/values"``.

    Leaf validators are shared singletons: they are immutable, and sharing
    them shares their compiled fast path too.
    """

    __slots__ = ()

    @staticmethod
    def string() -> StringValidator:
        return _STRING

    @staticmethod
    def number() -> Float64Validator:
        return _FLOAT64

    @staticmethod
    def float64() -> Float64Validator:
        return _FLOAT64

    @staticmethod
    def int64() -> Int64Validator:
        return _INT64

    @staticmethod
    def commit_ts() -> CommitTsValidator:
        """An int64, or the commit-timestamp placeholder that becomes one at commit."""
        return _COMMIT_TS

    @staticmethod
    def boolean() -> BooleanValidator:
        return _BOOLEAN

    @staticmethod
    def null() -> NullValidator:
        return _NULL

    @staticmethod
    def id(table_name: str) -> IdValidator:
        return IdValidator(table_name)

    @staticmethod
    def array(item: Validator) -> ArrayValidator:
        return ArrayValidator(item)

    @staticmethod
    def record(keys: Validator, values: Validator) -> RecordValidator:
        return RecordValidator(keys, values)

    @staticmethod
    def union(*members: Validator) -> UnionValidator:
        return UnionValidator(*members)

    @staticmethod
    def literal(value: LiteralValue) -> LiteralValidator:
        return LiteralValidator(value)

    @staticmethod
    def optional(validator: Validator) -> OptionalValidator:
        return OptionalValidator(validator)

    # Last in the class: these three names shadow builtins inside the class body.
    @staticmethod
    def bytes() -> BytesValidator:
        return _BYTES

    @staticmethod
    def any() -> AnyValidator:
        return _ANY

    @staticmethod
    def object(fields: Mapping[str, Validator]) -> ObjectValidator:
        return ObjectValidator(fields)


v: Final = _ValidatorBuilders()


def as_validator(spec: object) -> Validator:
    """``spec`` as a validator: a dict of validators means ``v.object(dict)``.

    Function decorators take ``args={"value": v.float64()}`` as Convex does;
    anything else that is not a validator is a ``TypeError`` naming it.
    """
    if isinstance(spec, Validator):
        return spec
    if isinstance(spec, Mapping):
        return ObjectValidator(spec)
    return _require_validator(spec, "A validator spec (a v.* validator or a dict of them)")


_SIMPLE_JSON: Final[dict[str, Validator]] = {
    "string": _STRING,
    "number": _FLOAT64,
    "bigint": _INT64,
    "commitTs": _COMMIT_TS,
    "boolean": _BOOLEAN,
    "null": _NULL,
    "bytes": _BYTES,
    "any": _ANY,
}


def validator_from_json(data: Mapping[str, Any]) -> Validator:
    """The validator whose :meth:`~Validator.to_json` is ``data``.

    A bare ``v.optional(x)`` serializes as ``x`` (see :class:`OptionalValidator`),
    so that is what comes back; optional object fields round-trip exactly.
    Malformed JSON raises :class:`SchemaError` saying what is wrong.
    """
    if not isinstance(data, Mapping):
        raise SchemaError(f"Validator JSON must be an object, got {_what(data)}")
    kind = data.get("type")
    simple = _SIMPLE_JSON.get(kind) if isinstance(kind, str) else None
    if simple is not None:
        return simple
    try:
        if kind == "id":
            return IdValidator(_json_member(data, "tableName"))
        if kind == "array":
            return ArrayValidator(validator_from_json(_json_member(data, "value")))
        if kind == "object":
            fields = _json_member(data, "value")
            if not isinstance(fields, Mapping):
                raise SchemaError(f"Object validator JSON needs a field map, got {_what(fields)}")
            return ObjectValidator({n: _field_from_json(f, n) for n, f in fields.items()})
        if kind == "record":
            values = _field_from_json(_json_member(data, "values"), "record values")
            return RecordValidator(validator_from_json(_json_member(data, "keys")), values)
        if kind == "union":
            members = _json_member(data, "value")
            if not isinstance(members, list):
                raise SchemaError(f"Union validator JSON needs a list, got {_what(members)}")
            return UnionValidator(*(validator_from_json(member) for member in members))
        if kind == "literal":
            return LiteralValidator(value_from_json(_json_member(data, "value")))
    except (TypeError, ValueError, struct.error) as error:
        if isinstance(error, SchemaError):
            raise
        raise SchemaError(f"Invalid validator JSON {data!r}: {error}") from None
    raise SchemaError(f"Unknown validator type {kind!r} in validator JSON {data!r}")


def _json_member(data: Mapping[str, Any], name: str) -> Any:
    if name not in data:
        raise SchemaError(f"Validator JSON of type {data.get('type')!r} lacks {name!r}: {data!r}")
    return data[name]


def _field_from_json(spec: Any, name: str) -> Validator:
    if not isinstance(spec, Mapping) or not isinstance(spec.get("optional"), bool):
        raise SchemaError(
            f'Field {name!r} must be {{"fieldType": <validator>, "optional": <bool>}}, got {spec!r}'
        )
    inner = validator_from_json(_json_member(spec, "fieldType"))
    return OptionalValidator(inner) if spec["optional"] else inner


def _rebuild(data: dict[str, Any], optional: bool) -> Validator:
    """Unpickle a validator (see ``Validator.__reduce__``)."""
    inner = validator_from_json(data)
    return OptionalValidator(inner) if optional else inner
