"""The container and combinator validators: array, object, record, union, optional.

Split out of ``validators.py``, which re-exports them. As for the leaves, each
class keeps its compiled schema (``_core_schema``) beside its diagnosis walk
(``_walk``): the walk must accept exactly what the schema accepts, and the
shape checks both call come from ``_validator_checks``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from pydantic_core import CoreSchema, core_schema

from convex_sim import _validator_checks as checks
from convex_sim._validator_checks import MISMATCH, IdResolver, Reject
from convex_sim._validator_core import (
    IdValidator,
    LiteralValidator,
    StringValidator,
    Validator,
    _require_plain_validator,
    _require_validator,
    _what,
)
from convex_sim.errors import InvalidValueError, SchemaError, ValidationError
from convex_sim.values import MAX_OBJECT_FIELDS, check_field_name, child_path


class ArrayValidator(Validator):
    """``v.array(item)``: a ``list`` (at most 8192 items), each matching ``item``."""

    __slots__ = ("item",)
    item: Validator

    def __init__(self, item: Validator) -> None:
        _require_plain_validator(item, "v.array() item")
        super().__init__()
        object.__setattr__(self, "item", item)

    def describe(self) -> str:
        return f"v.array({self.item.describe()})"

    def to_json(self) -> dict[str, Any]:
        return {"type": "array", "value": self.item.to_json()}

    def _core_schema(self) -> CoreSchema:
        items = core_schema.list_schema(self.item._core_schema(), strict=True)
        return core_schema.no_info_before_validator_function(checks.require_list, items)

    def _walk(self, value: Any, path: str, resolve_id: IdResolver | None) -> Any:
        try:
            checks.require_list(value)
        except Reject as reject:
            self._fail(reject.reason, path, value)
        item = self.item
        return [
            item._walk(element, child_path(path, index), resolve_id)
            for index, element in enumerate(value)
        ]


class ObjectValidator(Validator):
    """``v.object({...})``: a ``dict`` with exactly these fields (optional ones may be absent)."""

    __slots__ = ("fields",)
    fields: Mapping[str, Validator]
    """Field name to validator, optional fields wrapped in ``v.optional``; read-only."""

    def __init__(self, fields: Mapping[str, Validator]) -> None:
        if not isinstance(fields, Mapping):
            raise TypeError(f"v.object() takes a dict of field validators, got {_what(fields)}")
        checked: dict[str, Validator] = {}
        for name, field in fields.items():
            if not isinstance(name, str):
                raise TypeError(f"v.object() field names must be strings, got {_what(name)}")
            try:
                check_field_name(name, path="")
            except InvalidValueError as error:
                raise SchemaError(f"v.object() field {name!r}: {error}") from None
            checked[name] = _require_validator(field, f"v.object() field `{name}`")
        if len(checked) > MAX_OBJECT_FIELDS:
            raise SchemaError(
                f"v.object() has {len(checked)} fields; an object holds at most {MAX_OBJECT_FIELDS}"
            )
        super().__init__()
        object.__setattr__(self, "fields", MappingProxyType(checked))

    def describe(self) -> str:
        parts = [f"{_key_text(name)}: {field.describe()}" for name, field in self.fields.items()]
        return "v.object({" + ", ".join(parts) + "})"

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "object",
            "value": {
                name: {"fieldType": field.to_json(), "optional": field.is_optional}
                for name, field in self.fields.items()
            },
        }

    def _core_schema(self) -> CoreSchema:
        fields = {
            name: core_schema.typed_dict_field(field._core_schema(), required=not field.is_optional)
            for name, field in self.fields.items()
        }
        shape = core_schema.typed_dict_schema(fields, strict=True, extra_behavior="forbid")
        return core_schema.no_info_before_validator_function(checks.require_object, shape)

    def _walk(self, value: Any, path: str, resolve_id: IdResolver | None) -> Any:
        try:
            checks.require_object(value)
        except Reject as reject:
            self._fail(reject.reason, path, value)
        # Declared fields first, then extras: together the rule typed_dict(extra="forbid")
        # applies. Which of several faults is named first is free; acceptance is not.
        result: dict[str, Any] = {}
        for name, field in self.fields.items():
            if name in value:
                result[name] = field._walk(value[name], child_path(path, name), resolve_id)
            elif not field.is_optional:
                self._fail(
                    f"Object is missing the required field `{name}`. Consider wrapping the "
                    "field validator in `v.optional(...)` if this is expected.",
                    path,
                    value,
                )
        for key in value:
            if key not in self.fields:
                label = key if isinstance(key, str) else repr(key)
                self._fail(
                    f"Object contains extra field `{label}` that is not in the validator.",
                    path,
                    value,
                )
        return result

    def partial(self) -> ObjectValidator:
        """The same fields, every one optional (for patch-style arguments)."""
        return ObjectValidator(
            {n: f if f.is_optional else OptionalValidator(f) for n, f in self.fields.items()}
        )

    def extend(self, fields: Mapping[str, Validator] | ObjectValidator) -> ObjectValidator:
        """These fields plus ``fields``; a name in both takes the new validator."""
        extra = fields.fields if isinstance(fields, ObjectValidator) else fields
        if not isinstance(extra, Mapping):
            raise TypeError(f"extend() takes a dict of field validators, got {_what(fields)}")
        return ObjectValidator({**self.fields, **extra})

    def pick(self, *names: str) -> ObjectValidator:
        """Only the named fields (in this validator's order)."""
        self._require_fields(names, "pick")
        return ObjectValidator({n: f for n, f in self.fields.items() if n in names})

    def omit(self, *names: str) -> ObjectValidator:
        """Every field except the named ones."""
        self._require_fields(names, "omit")
        return ObjectValidator({n: f for n, f in self.fields.items() if n not in names})

    def _require_fields(self, names: tuple[str, ...], method: str) -> None:
        # A misspelt name would otherwise silently pick nothing or omit nothing.
        unknown = [name for name in names if name not in self.fields]
        if unknown:
            raise SchemaError(
                f"{method}(): {self.describe()} has no field(s) {', '.join(map(repr, unknown))}"
            )


def _key_text(name: str) -> str:
    return name if name.isidentifier() else json.dumps(name)


class RecordValidator(Validator):
    """``v.record(keys, values)``: a ``dict`` whose keys and values match the two validators."""

    __slots__ = ("keys", "values")
    keys: Validator
    values: Validator

    def __init__(self, keys: Validator, values: Validator) -> None:
        _require_plain_validator(keys, "v.record() keys")
        _require_plain_validator(values, "v.record() values")
        if not _is_string_key(keys):
            raise SchemaError(
                f"v.record() keys must be v.string(), v.id(...), a string v.literal(...) "
                f"or a union of those, got {keys.describe()}"
            )
        super().__init__()
        object.__setattr__(self, "keys", keys)
        object.__setattr__(self, "values", values)

    def describe(self) -> str:
        return f"v.record({self.keys.describe()}, {self.values.describe()})"

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "record",
            "keys": self.keys.to_json(),
            "values": {"fieldType": self.values.to_json(), "optional": False},
        }

    def _core_schema(self) -> CoreSchema:
        keys = core_schema.no_info_after_validator_function(
            checks.check_key_name, self.keys._core_schema()
        )
        pairs = core_schema.dict_schema(keys, self.values._core_schema(), strict=True)
        return core_schema.no_info_before_validator_function(checks.require_record, pairs)

    def _walk(self, value: Any, path: str, resolve_id: IdResolver | None) -> Any:
        try:
            checks.require_record(value)
        except Reject as reject:
            self._fail(reject.reason, path, value)
        result: dict[str, Any] = {}
        for key, item in value.items():
            # A key is not a location inside the value (and a non-str key cannot even be
            # written as a path), so a bad key is reported at the record, naming the key.
            label = key if isinstance(key, str) else repr(key)
            try:
                new_key = self.keys._walk(key, path, resolve_id)
                checks.check_key_name(new_key)
            except (ValidationError, Reject) as error:
                detail = "" if error.reason == MISMATCH else f" {error.reason}"
                raise ValidationError(
                    f"Record key `{label}` does not match the key validator.{detail}",
                    path=path,
                    value=key,
                    validator=self.keys.describe(),
                ) from None
            result[new_key] = self.values._walk(item, child_path(path, new_key), resolve_id)
        return result


def _is_string_key(validator: Validator) -> bool:
    if isinstance(validator, StringValidator | IdValidator):
        return True
    if isinstance(validator, LiteralValidator):
        return isinstance(validator.value, str)
    if isinstance(validator, UnionValidator):
        return all(_is_string_key(member) for member in validator.members)
    return False


class UnionValidator(Validator):
    """``v.union(...)``: the first member that accepts the value decides (and converts) it."""

    __slots__ = ("members",)
    members: tuple[Validator, ...]

    def __init__(self, *members: Validator) -> None:
        if not members:
            raise SchemaError("v.union() needs at least one member validator")
        for index, member in enumerate(members):
            _require_plain_validator(member, f"v.union() member {index}")
        super().__init__()
        object.__setattr__(self, "members", members)

    def describe(self) -> str:
        return f"v.union({', '.join(member.describe() for member in self.members)})"

    def to_json(self) -> dict[str, Any]:
        return {"type": "union", "value": [member.to_json() for member in self.members]}

    def _core_schema(self) -> CoreSchema:
        # left_to_right: pydantic's default "smart" mode would pick the best match, not the first.
        choices: list[CoreSchema | tuple[CoreSchema, str]] = [
            member._core_schema() for member in self.members
        ]
        return core_schema.union_schema(choices, mode="left_to_right")

    def _walk(self, value: Any, path: str, resolve_id: IdResolver | None) -> Any:
        # Members' own reasons are dropped: with several members, which one the user
        # meant is a guess, so the union as a whole is what failed.
        for member in self.members:
            try:
                return member._walk(value, path, resolve_id)
            except ValidationError:
                continue
        self._fail(MISMATCH, path, value)


class OptionalValidator(Validator):
    """``v.optional(x)``: marks an object field that may be absent; otherwise it is ``x``.

    Its JSON is ``x``'s, as in Convex, where optionality lives in the
    enclosing object's ``{"fieldType", "optional"}`` entry.
    """

    __slots__ = ("inner",)
    is_optional = True
    inner: Validator

    def __init__(self, inner: Validator) -> None:
        _require_plain_validator(inner, "v.optional()")
        super().__init__()
        object.__setattr__(self, "inner", inner)

    def describe(self) -> str:
        return f"v.optional({self.inner.describe()})"

    def to_json(self) -> dict[str, Any]:
        return self.inner.to_json()

    def _core_schema(self) -> CoreSchema:
        return self.inner._core_schema()

    def _walk(self, value: Any, path: str, resolve_id: IdResolver | None) -> Any:
        return self.inner._walk(value, path, resolve_id)
