"""Validators (``v.*``): what each accepts, converts and rejects, and how it says so.

The property tests at the end check the two promises the module's design rests
on: the compiled fast path and the diagnosis walk accept exactly the same
values (and convert them the same way), and validator JSON round-trips.
"""

from __future__ import annotations

import copy
import enum
import json
import math
import pickle
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic_core import SchemaValidator
from pydantic_core import ValidationError as CoreValidationError

from convex_sim.errors import SchemaError, TableNameError, ValidationError
from convex_sim.validators import (
    AnyValidator,
    ArrayValidator,
    BooleanValidator,
    BytesValidator,
    Float64Validator,
    IdResolver,
    IdValidator,
    Int64Validator,
    LiteralValidator,
    NullValidator,
    ObjectValidator,
    OptionalValidator,
    RecordValidator,
    StringValidator,
    UnionValidator,
    Validator,
    as_validator,
    v,
    validator_from_json,
)
from convex_sim.values import (
    INT64_MAX,
    INT64_MIN,
    MAX_ARRAY_LENGTH,
    MAX_OBJECT_FIELDS,
    MISSING,
    Id,
    check_value,
    decode_id_string,
    make_id_string,
    values_equal,
)
from tests.strategies import convex_values

MISMATCH = r"Value does not match validator\."
TABLE_NUMBERS = {1: "events", 2: "users"}  # table 3 exists in no deployment


def resolve(text: str) -> str | None:
    """A resolver like the store's: the table number inside the id, looked up."""
    number = decode_id_string(text)
    return None if number is None else TABLE_NUMBERS.get(number)


def make_id(table_number: int, seed: int = 0) -> str:
    return make_id_string(table_number, bytes([seed]) * 16)


EVENT_ID, USER_ID, NOWHERE_ID = make_id(1), make_id(2), make_id(3)


def rejection(
    validator: Validator, value: Any, *, resolve_id: IdResolver | None = None, path: str = ""
) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        validator.validate(value, resolve_id=resolve_id, path=path)
    return info.value


def assert_rejects(
    validator: Validator,
    value: Any,
    reason: str = MISMATCH,
    *,
    path: str = "",
    bad: Any = None,
    expected: str | None = None,
    resolve_id: IdResolver | None = None,
) -> None:
    """Reject with ``reason`` (an anchored regex) at ``path``, blaming ``bad`` and ``expected``."""
    error = rejection(validator, value, resolve_id=resolve_id)
    assert re.fullmatch(reason, error.reason), error.reason
    assert error.path == path
    assert same(error.value, value if bad is None else bad)
    assert error.validator == (validator.describe() if expected is None else expected)


def same(a: Any, b: Any) -> bool:
    """Equal as stored values: same Python types all the way down, Convex-equal, same id tables."""
    if type(a) is not type(b):
        return False
    if isinstance(a, Id):
        return str(a) == str(b) and a.table == b.table
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(
            same(ka, kb) and same(a[ka], b[ka])
            for ka, kb in zip(sorted(a, key=str), sorted(b, key=str), strict=True)
        )
    try:
        return values_equal(a, b)
    except ValueError:
        return bool(a == b)


class Color(enum.IntEnum):
    RED = 1


class Word(str):
    pass


class OtherList(list[Any]):
    pass


class OtherDict(dict[Any, Any]):
    pass


# --------------------------------------------------------------------------
# Leaves
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("validator", "good", "bad"),
    [
        (v.string(), ["", "héllo", "🙂", Id(EVENT_ID, "events"), Word("w")], [b"x", 1, None]),
        (v.int64(), [0, -1, INT64_MIN, INT64_MAX], [1.0, True, False, "1", Color.RED, None]),
        (v.boolean(), [True, False], [0, 1, None, "true"]),
        (v.null(), [None], [0, False, "", [], MISSING]),
        (v.bytes(), [b"", b"\x00\xff"], [bytearray(b"x"), "x", memoryview(b"x"), [1]]),
        (v.float64(), [1.5, -0.0, math.inf, -math.inf, math.nan], [True, "1.0", None, b"1"]),
    ],
)
def test_leaf_accepts_and_rejects(validator: Validator, good: list[Any], bad: list[Any]) -> None:
    for value in good:
        result = validator.validate(value)
        assert result is value  # leaves store the very object, Ids keep their table
    for value in bad:
        assert_rejects(validator, value)


def test_string_rejects_lone_surrogates() -> None:
    assert_rejects(
        v.string(),
        "ab\ud800",
        r"String contains a lone surrogate at index 2; strings must be valid Unicode\.",
    )


def test_number_is_the_same_validator_as_float64() -> None:
    assert v.number() == v.float64()
    assert v.number().describe() == "v.float64()"
    assert v.number().to_json() == {"type": "number"}


@pytest.mark.parametrize(
    ("given_int", "stored"),
    [(5, 5.0), (0, 0.0), (-7, -7.0), (2**53, 2.0**53), (-(2**53), -(2.0**53)), (2**70, 2.0**70)],
)
def test_float64_stores_an_exactly_representable_int_as_float(
    given_int: int, stored: float
) -> None:
    result = v.float64().validate(given_int)
    assert type(result) is float
    assert result == stored


@pytest.mark.parametrize("inexact", [2**53 + 1, -(2**53) - 1, INT64_MAX])
def test_float64_rejects_an_int_that_would_round(inexact: int) -> None:
    assert_rejects(
        v.float64(),
        inexact,
        rf"Integer {inexact} has no exact float64 representation; "
        r"pass a float if rounding is intended\.",
    )


def test_float64_rejects_an_int_too_big_for_a_double_without_printing_it() -> None:
    assert_rejects(
        v.float64(),
        2**2000,
        r"Integer of 2001 bits has no exact float64 representation; "
        r"pass a float if rounding is intended\.",
    )


def test_float64_keeps_negative_zero_and_nan_payloads() -> None:
    assert math.copysign(1.0, v.float64().validate(-0.0)) == -1.0
    assert math.isnan(v.float64().validate(math.nan))


@pytest.mark.parametrize("outside", [INT64_MAX + 1, INT64_MIN - 1, 2**100])
def test_int64_range(outside: int) -> None:
    assert_rejects(
        v.int64(), outside, rf"Integer {outside} does not fit in an int64 \(−2\^63 to 2\^63−1\)\."
    )


def test_any_accepts_convex_values_and_returns_a_copy() -> None:
    value = {"a": [1, 2.5, None, {"b": b"x"}], "c": Id(EVENT_ID, "events")}
    result = v.any().validate(value)
    assert same(result, value)
    assert result is not value
    assert result["a"] is not value["a"]
    result["a"].append(99)
    assert len(value["a"]) == 4


@pytest.mark.parametrize(
    ("value", "path", "bad", "reason"),
    [
        ({"a": [1, (2, 3)]}, ".a[1]", (2, 3), r"Tuples are not Convex values; use a list"),
        ({"k": {"$x": 1}}, ".k", {"$x": 1}, r"Field name '\$x' starts with a '\$', .*"),
        ([MISSING], "[0]", MISSING, r"undefined is not a Convex value \(omit the field instead\)"),
        (2**63, "", 2**63, r"Integer 9223372036854775808 does not fit in an int64"),
        ({1, 2}, "", {1, 2}, r"Python set \(not a Convex value\) cannot be stored"),
    ],
)
def test_any_rejects_non_values_at_the_exact_place(
    value: Any, path: str, bad: Any, reason: str
) -> None:
    error = rejection(v.any(), value, path=".arg")
    assert re.fullmatch(reason, error.reason), error.reason
    assert error.path == ".arg" + path
    assert error.value == bad
    assert error.validator == "v.any()"


# --------------------------------------------------------------------------
# Ids
# --------------------------------------------------------------------------


def test_id_without_resolver_passes_plain_strings_unchanged() -> None:
    assert v.id("events").validate("anything") == "anything"
    assert type(v.id("events").validate("anything")) is str


def test_id_checks_the_table_an_id_object_carries() -> None:
    right = Id(EVENT_ID, "events")
    assert v.id("events").validate(right) is right
    assert_rejects(
        v.id("events"),
        Id(USER_ID, "users"),
        r'Found an id for table "users"; expected Id<"events">\.',
        expected='v.id("events")',
    )


def test_id_with_resolver_converts_and_checks() -> None:
    result = v.id("events").validate(EVENT_ID, resolve_id=resolve)
    assert isinstance(result, Id)
    assert (str(result), result.table) == (EVENT_ID, "events")
    assert_rejects(
        v.id("events"),
        USER_ID,
        r'Found an id for table "users"; expected Id<"events">\.',
        resolve_id=resolve,
    )
    for bogus in (NOWHERE_ID, "not-an-id", ""):
        assert_rejects(
            v.id("events"),
            bogus,
            r'Value is not a valid id; expected Id<"events">\.',
            resolve_id=resolve,
        )
    assert_rejects(v.id("events"), 5, resolve_id=resolve)


def test_resolver_reaches_nested_validators() -> None:
    validator = v.object({"refs": v.record(v.string(), v.array(v.union(v.null(), v.id("users"))))})
    result = validator.validate({"refs": {"a": [None, USER_ID]}}, resolve_id=resolve)
    assert same(result, {"refs": {"a": [None, Id(USER_ID, "users")]}})
    error = rejection(validator, {"refs": {"a": [USER_ID, EVENT_ID]}}, resolve_id=resolve)
    assert (error.path, error.value) == (".refs.a[1]", EVENT_ID)
    assert error.validator == 'v.union(v.null(), v.id("users"))'


# --------------------------------------------------------------------------
# Literals
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("literal", "accepted", "rejected"),
    [
        ("a", ["a", Id("a", "t"), Word("a")], ["b", b"a", None]),
        (1, [1], [1.0, True, Color.RED, "1"]),
        (1.0, [1.0, 1], [True, 1.0000000000000002, 2]),
        (0.0, [0.0, 0], [-0.0, False]),
        (-0.0, [-0.0], [0.0, 0]),
        (True, [True], [1, 1.0, False]),
        (False, [False], [0, 0.0, None]),
        (math.nan, [math.nan], [math.inf, 0.0]),
    ],
)
def test_literal_matches_by_convex_equality(
    literal: Any, accepted: list[Any], rejected: list[Any]
) -> None:
    validator = v.literal(literal)
    for value in accepted:
        result = validator.validate(value)
        expected_type = float if isinstance(literal, float) else type(value)
        assert type(result) is expected_type
    for value in rejected:
        assert_rejects(validator, value)


def test_float_literal_converts_an_exact_int() -> None:
    assert same(v.literal(5.0).validate(5), 5.0)
    assert_rejects(v.literal(float(2**53)), 2**53 + 1)


def test_literal_of_an_enum_member_is_its_plain_value() -> None:
    assert type(v.literal(Color.RED).value) is int
    assert type(v.literal(Word("w")).value) is str
    assert v.literal(Color.RED) == v.literal(1)


# --------------------------------------------------------------------------
# Arrays, objects, records
# --------------------------------------------------------------------------


def test_array_returns_a_new_list_and_converts_items() -> None:
    value = [1, 2.5]
    result = v.array(v.float64()).validate(value)
    assert same(result, [1.0, 2.5])
    assert result is not value


def test_array_errors_point_at_the_item() -> None:
    assert_rejects(v.array(v.int64()), [1, 2, "x"], path="[2]", bad="x", expected="v.int64()")
    assert_rejects(v.array(v.int64()), (1, 2))
    assert_rejects(v.array(v.any()), [[], [()]], r".*", path="[1][0]", bad=(), expected="v.any()")


def test_array_length_limit() -> None:
    assert len(v.array(v.null()).validate([None] * MAX_ARRAY_LENGTH)) == MAX_ARRAY_LENGTH
    assert_rejects(
        v.array(v.null()),
        [None] * (MAX_ARRAY_LENGTH + 1),
        rf"Array has {MAX_ARRAY_LENGTH + 1} elements; the limit is {MAX_ARRAY_LENGTH}\.",
    )


def test_list_and_dict_subclasses_are_not_values() -> None:
    assert_rejects(v.array(v.any()), OtherList())
    assert_rejects(v.object({}), OtherDict())
    assert_rejects(v.record(v.string(), v.any()), OtherDict())


NESTED = v.object({"config": v.object({"debounceMs": v.optional(v.number())})})


def test_nested_error_path_value_and_validator() -> None:
    error = rejection(NESTED, {"config": {"debounceMs": "x"}})
    assert error.reason == "Value does not match validator."
    assert error.path == ".config.debounceMs"
    assert error.value == "x"
    assert error.validator == "v.float64()"
    assert str(error) == (
        "Value does not match validator.\n"
        "Path: .config.debounceMs\n"
        "Value: 'x'\n"
        "Validator: v.float64()"
    )


def test_path_argument_prefixes_error_paths() -> None:
    assert rejection(NESTED, {"config": 1}, path=".args").path == ".args.config"


def test_object_optional_fields_may_be_absent_and_output_is_new() -> None:
    value: dict[str, Any] = {"config": {}}
    result = NESTED.validate(value)
    assert result == {"config": {}}
    assert result is not value
    assert result["config"] is not value["config"]
    assert same(NESTED.validate({"config": {"debounceMs": 3}}), {"config": {"debounceMs": 3.0}})


def test_object_missing_field() -> None:
    validator = v.object({"value": v.float64(), "note": v.optional(v.string())})
    assert_rejects(
        validator,
        {"note": "n"},
        r"Object is missing the required field `value`\. Consider wrapping the field "
        r"validator in `v\.optional\(\.\.\.\)` if this is expected\.",
        expected="v.object({value: v.float64(), note: v.optional(v.string())})",
    )


def test_object_extra_field() -> None:
    validator = v.object({"value": v.float64()})
    assert_rejects(
        validator,
        {"value": 1.0, "x": 2},
        r"Object contains extra field `x` that is not in the validator\.",
    )
    assert_rejects(
        validator,
        {"value": 1.0, 7: 2},
        r"Object contains extra field `7` that is not in the validator\.",
    )


def test_object_paths_quote_non_identifier_names() -> None:
    validator = v.object({"my-key": v.object({"ok": v.int64()})})
    assert validator.describe() == 'v.object({"my-key": v.object({ok: v.int64()})})'
    error = rejection(validator, {"my-key": {"ok": 1.5}})
    assert error.path == "['my-key'].ok"


def test_record_keys_and_values() -> None:
    validator = v.record(v.string(), v.float64())
    assert same(validator.validate({"a": 1, "b": 2.5}), {"a": 1.0, "b": 2.5})
    assert_rejects(validator, {"a": 1, "b-c": "x"}, path="['b-c']", bad="x", expected="v.float64()")
    assert_rejects(
        validator,
        {3: 1.0},
        r"Record key `3` does not match the key validator\.",
        bad=3,
        expected="v.string()",
    )
    assert_rejects(
        validator,
        {"$a": 1.0},
        r"Record key `\$a` does not match the key validator\. Field name '\$a' starts .*",
        bad="$a",
        expected="v.string()",
    )


def test_record_with_literal_union_keys() -> None:
    keys = v.union(v.literal("a"), v.literal("b"))
    validator = v.record(keys, v.boolean())
    assert validator.validate({"a": True}) == {"a": True}
    assert_rejects(
        validator,
        {"a": True, "c": False},
        r"Record key `c` does not match the key validator\.",
        bad="c",
        expected='v.union(v.literal("a"), v.literal("b"))',
    )


def test_record_id_keys_are_resolved() -> None:
    validator = v.record(v.id("events"), v.int64())
    result = validator.validate({EVENT_ID: 1}, resolve_id=resolve)
    (key,) = result
    assert isinstance(key, Id)
    assert key.table == "events"
    assert_rejects(
        validator,
        {USER_ID: 1},
        r"Record key `\w+` does not match the key validator\. "
        r'Found an id for table "users"; expected Id<"events">\.',
        bad=USER_ID,
        expected='v.id("events")',
        resolve_id=resolve,
    )


def test_record_size_limit() -> None:
    big = {f"k{i}": None for i in range(MAX_OBJECT_FIELDS + 1)}
    assert_rejects(
        v.record(v.string(), v.null()),
        big,
        rf"Object has {MAX_OBJECT_FIELDS + 1} fields; the limit is {MAX_OBJECT_FIELDS}\.",
    )


# --------------------------------------------------------------------------
# Unions and optional
# --------------------------------------------------------------------------


def test_union_first_match_wins_and_converts() -> None:
    assert same(v.union(v.float64(), v.int64()).validate(5), 5.0)
    assert same(v.union(v.int64(), v.float64()).validate(5), 5)
    assert same(v.union(v.string(), v.id("users")).validate(USER_ID, resolve_id=resolve), USER_ID)
    assert same(
        v.union(v.id("users"), v.string()).validate(USER_ID, resolve_id=resolve),
        Id(USER_ID, "users"),
    )


def test_union_error_names_the_union() -> None:
    union = v.union(v.literal("a"), v.object({"n": v.int64()}))
    assert_rejects(
        v.object({"u": union}),
        {"u": {"n": 1.5}},
        path=".u",
        bad={"n": 1.5},
        expected='v.union(v.literal("a"), v.object({n: v.int64()}))',
    )


def test_optional() -> None:
    optional = v.optional(v.int64())
    assert optional.is_optional
    assert not v.int64().is_optional
    assert optional.validate(3) == 3
    assert_rejects(optional, None, expected="v.int64()")  # errors name the inner validator
    assert isinstance(NESTED.fields["config"], ObjectValidator)
    assert isinstance(NESTED.fields["config"].fields["debounceMs"], OptionalValidator)


# --------------------------------------------------------------------------
# ObjectValidator helpers
# --------------------------------------------------------------------------

BASE = v.object({"a": v.string(), "b": v.optional(v.int64()), "c": v.boolean()})


def test_partial_makes_every_field_optional() -> None:
    partial = BASE.partial()
    assert all(field.is_optional for field in partial.fields.values())
    assert partial.fields["b"] == BASE.fields["b"]
    assert partial.validate({}) == {}
    assert partial.describe() == (
        "v.object({a: v.optional(v.string()), b: v.optional(v.int64()), "
        "c: v.optional(v.boolean())})"
    )


def test_extend_adds_and_overrides() -> None:
    extended = BASE.extend({"c": v.null(), "d": v.bytes()})
    assert list(extended.fields) == ["a", "b", "c", "d"]
    assert extended.fields["c"] == v.null()
    assert BASE.fields["c"] == v.boolean()  # the original is untouched
    assert BASE.extend(v.object({"d": v.bytes()})) == extended.extend({"c": v.boolean()})


def test_pick_and_omit() -> None:
    assert BASE.pick("c", "a") == v.object({"a": v.string(), "c": v.boolean()})
    assert list(BASE.pick("c", "a").fields) == ["a", "c"]
    assert BASE.omit("b") == v.object({"a": v.string(), "c": v.boolean()})
    with pytest.raises(SchemaError, match=r"^pick\(\): .* has no field\(s\) 'z'$"):
        BASE.pick("a", "z")
    with pytest.raises(SchemaError, match=r"^omit\(\): .* has no field\(s\) 'z'$"):
        BASE.omit("z")


# --------------------------------------------------------------------------
# Description, JSON, equality, immutability
# --------------------------------------------------------------------------

KITCHEN_SINK = v.object(
    {
        "s": v.string(),
        "f": v.number(),
        "i": v.int64(),
        "b": v.boolean(),
        "n": v.null(),
        "y": v.bytes(),
        "a": v.any(),
        "id": v.id("events"),
        "list": v.array(v.string()),
        "rec": v.record(v.string(), v.literal(5)),
        "u": v.union(v.literal("x"), v.literal(1.5), v.literal(True)),
        "o": v.optional(v.literal(-0.0)),
    }
)


def test_describe_notation() -> None:
    assert KITCHEN_SINK.describe() == (
        "v.object({s: v.string(), f: v.float64(), i: v.int64(), b: v.boolean(), n: v.null(), "
        'y: v.bytes(), a: v.any(), id: v.id("events"), list: v.array(v.string()), '
        "rec: v.record(v.string(), v.literal(5n)), "
        'u: v.union(v.literal("x"), v.literal(1.5), v.literal(true)), '
        "o: v.optional(v.literal(-0.0))})"
    )
    assert repr(KITCHEN_SINK) == KITCHEN_SINK.describe()
    assert v.literal(math.inf).describe() == "v.literal(Infinity)"


def test_to_json_matches_convex() -> None:
    def field(json_: dict[str, Any], optional: bool = False) -> dict[str, Any]:
        return {"fieldType": json_, "optional": optional}

    assert KITCHEN_SINK.to_json() == {
        "type": "object",
        "value": {
            "s": field({"type": "string"}),
            "f": field({"type": "number"}),
            "i": field({"type": "bigint"}),
            "b": field({"type": "boolean"}),
            "n": field({"type": "null"}),
            "y": field({"type": "bytes"}),
            "a": field({"type": "any"}),
            "id": field({"type": "id", "tableName": "events"}),
            "list": field({"type": "array", "value": {"type": "string"}}),
            "rec": field(
                {
                    "type": "record",
                    "keys": {"type": "string"},
                    "values": field({"type": "literal", "value": {"$integer": "BQAAAAAAAAA="}}),
                }
            ),
            "u": field(
                {
                    "type": "union",
                    "value": [
                        {"type": "literal", "value": "x"},
                        {"type": "literal", "value": 1.5},
                        {"type": "literal", "value": True},
                    ],
                }
            ),
            "o": field({"type": "literal", "value": {"$float": "AAAAAAAAAIA="}}, optional=True),
        },
    }
    assert validator_from_json(KITCHEN_SINK.to_json()) == KITCHEN_SINK


def test_bare_optional_serializes_as_its_inner_validator() -> None:
    assert v.optional(v.string()).to_json() == {"type": "string"}
    assert validator_from_json(v.optional(v.string()).to_json()) == v.string()


def test_plain_json_number_literal_is_a_float_literal() -> None:
    assert validator_from_json({"type": "literal", "value": 5}) == v.literal(5.0)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"type": "nope"}, r"Unknown validator type 'nope' .*"),
        ([], r"Validator JSON must be an object, got list \[\]"),
        ({"type": "array"}, r"Validator JSON of type 'array' lacks 'value'.*"),
        ({"type": "object", "value": {"a": {"type": "string"}}}, r"Field 'a' must be .*"),
        ({"type": "union", "value": []}, r"v\.union\(\) needs at least one member validator"),
        ({"type": "literal", "value": [1]}, r"Invalid validator JSON .*"),
        ({"type": "literal", "value": {"$integer": "!!"}}, r"Invalid validator JSON .*"),
        ({"type": "id", "tableName": "no such"}, r"Invalid validator JSON .*"),
        (
            {
                "type": "record",
                "keys": {"type": "string"},
                "values": {"fieldType": {"type": "null"}, "optional": True},
            },
            r"v\.record\(\) values cannot be v\.optional\(v\.null\(\)\): .*object fields.*",
        ),
    ],
)
def test_malformed_json_is_a_schema_error(data: Any, message: str) -> None:
    with pytest.raises(SchemaError) as info:
        validator_from_json(data)
    assert re.fullmatch(message, str(info.value)), str(info.value)


def test_equality_and_hash_follow_structure() -> None:
    ab = v.object({"a": v.string(), "b": v.int64()})
    ba = v.object({"b": v.int64(), "a": v.string()})
    assert ab == ba
    assert len({ab, ba, v.object({"a": v.string()})}) == 2
    assert v.optional(v.string()) != v.string()
    assert len({v.literal(1), v.literal(1.0), v.literal(True)}) == 3
    assert v.literal(0.0) != v.literal(-0.0)
    assert v.union(v.string(), v.null()) != v.union(v.null(), v.string())
    assert v.string() != "v.string()"


def test_validators_are_immutable_and_copy_as_themselves() -> None:
    with pytest.raises(AttributeError, match=r"^ObjectValidator is immutable"):
        BASE.fields = {}
    with pytest.raises(TypeError):
        BASE.fields["z"] = v.null()  # type: ignore[index]
    assert copy.deepcopy(BASE) is BASE
    assert pickle.loads(pickle.dumps(KITCHEN_SINK)) == KITCHEN_SINK
    assert pickle.loads(pickle.dumps(v.optional(v.int64()))) == v.optional(v.int64())


# --------------------------------------------------------------------------
# Building errors and as_validator
# --------------------------------------------------------------------------


untyped_v: Any = v  # for the calls below that break the annotations on purpose


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (
            lambda: untyped_v.object({"a": str}),
            TypeError,
            r"v\.object\(\) field `a` must be a validator such as v\.string\(\), got type "
            r"<class 'str'>; did you mean v\.string\(\)\?",
        ),
        (
            lambda: untyped_v.object({"a": {"b": v.null()}}),
            TypeError,
            r".*; wrap a nested dict in v\.object\(\{\.\.\.\}\)",
        ),
        (lambda: v.object({"$a": v.null()}), SchemaError, r"v\.object\(\) field '\$a': .*"),
        (
            lambda: untyped_v.object({1: v.null()}),
            TypeError,
            r"v\.object\(\) field names must be .*",
        ),
        (lambda: untyped_v.object([("a", v.null())]), TypeError, r"v\.object\(\) takes a dict .*"),
        (lambda: v.union(), SchemaError, r"v\.union\(\) needs at least one member validator"),
        (
            lambda: v.union(v.optional(v.null())),
            SchemaError,
            r"v\.union\(\) member 0 cannot be v\.optional\(v\.null\(\)\): .*",
        ),
        (lambda: v.array(v.optional(v.null())), SchemaError, r"v\.array\(\) item cannot be .*"),
        (lambda: v.optional(v.optional(v.null())), SchemaError, r"v\.optional\(\) cannot be .*"),
        (
            lambda: untyped_v.literal([1]),
            TypeError,
            r"v\.literal\(\) takes a str, int, float or bool, got list \[1\]",
        ),
        (lambda: untyped_v.literal(None), TypeError, r"v\.literal\(\) takes a str, .*"),
        (lambda: v.literal(2**63), SchemaError, r"v\.literal\(9223372036854775808\): .*"),
        (lambda: v.literal("\udc00"), SchemaError, r".*not valid Unicode"),
        (
            lambda: v.record(v.float64(), v.null()),
            SchemaError,
            r"v\.record\(\) keys must be v\.string\(\), v\.id\(\.\.\.\), "
            r"a string v\.literal\(\.\.\.\) or a union of those, got v\.float64\(\)",
        ),
        (
            lambda: v.record(v.union(v.string(), v.literal(1)), v.null()),
            SchemaError,
            r"v\.record\(\) keys must be .*",
        ),
        (
            lambda: v.record(v.string(), v.optional(v.null())),
            SchemaError,
            r"v\.record\(\) values cannot be .*",
        ),
        (lambda: v.id("bad-name"), TableNameError, r"v\.id\('bad-name'\): a table name is .*"),
        (lambda: v.id(""), TableNameError, r"v\.id\(''\): .*"),
        (lambda: v.id("__"), TableNameError, r"v\.id\('__'\): .*"),
        (lambda: v.id("x" * 65), TableNameError, r"v\.id\('x+'\): .*"),
        (lambda: untyped_v.id(5), TypeError, r"v\.id\(\) takes a table name, got int 5"),
    ],
)
def test_building_errors(build: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as info:
        build()
    assert re.fullmatch(message, str(info.value)), str(info.value)


def test_system_table_ids_are_allowed() -> None:
    assert v.id("_scheduled_functions").describe() == 'v.id("_scheduled_functions")'


def test_as_validator() -> None:
    validator = v.array(v.null())
    assert as_validator(validator) is validator
    from_dict = as_validator({"a": v.string()})
    assert isinstance(from_dict, ObjectValidator)
    assert from_dict == v.object({"a": v.string()})
    for spec, pattern in [
        (None, r".*got NoneType None; did you mean v\.null\(\)\?"),
        (float, r".*got type <class 'float'>; did you mean v\.float64\(\)\?"),
        ([v.null()], r"A validator spec \(a v\.\* validator or a dict of them\) must be .*"),
    ]:
        with pytest.raises(TypeError) as info:
            as_validator(spec)
        assert re.fullmatch(pattern, str(info.value)), str(info.value)


# --------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------

TABLES = ("events", "users")
literals = st.one_of(
    st.text(max_size=4),
    st.integers(INT64_MIN, INT64_MAX),
    st.floats(),
    st.booleans(),
    st.sampled_from([0, 1, 0.0, -0.0, 1.0, 2.0**53]),
)
names = st.one_of(st.from_regex(r"[a-z][a-zA-Z0-9_]{0,4}", fullmatch=True), st.just("my-key"))
SIMPLE_LEAVES = [v.string(), v.float64(), v.int64(), v.boolean(), v.null(), v.bytes(), v.any()]


@st.composite
def leaf_validators(draw: st.DrawFn) -> Validator:
    choice = draw(st.sampled_from([*SIMPLE_LEAVES, "id", "literal"]))
    if choice == "id":
        return v.id(draw(st.sampled_from(TABLES)))
    if choice == "literal":
        return v.literal(draw(literals))
    assert isinstance(choice, Validator)
    return choice


key_validators = st.one_of(
    st.sampled_from([v.string(), *map(v.id, TABLES)]),
    names.map(v.literal),
    st.lists(names.map(v.literal), min_size=1, max_size=3).map(lambda ms: v.union(*ms)),
)


@st.composite
def _validators(draw: st.DrawFn, depth: int = 3) -> Validator:
    # Hand-rolled rather than st.recursive, which made most roots arrays and few objects.
    kind = draw(st.sampled_from(["object", "union", "record", "array", "leaf"]))
    if depth == 0 or kind == "leaf":
        return draw(leaf_validators())
    children = _validators(depth - 1)
    if kind == "object":
        fields = draw(st.dictionaries(names, st.tuples(children, st.booleans()), max_size=4))
        return v.object({k: v.optional(c) if opt else c for k, (c, opt) in fields.items()})
    if kind == "union":
        return v.union(*draw(st.lists(children, min_size=1, max_size=3)))
    if kind == "record":
        return v.record(draw(key_validators), draw(children))
    return v.array(draw(children))


validators = _validators()

bad_names = st.sampled_from(["$x", "tab\there", "é", "", "x" * 1025])
id_strings = st.builds(make_id, st.sampled_from([1, 2, 3]), st.integers(0, 255))
id_objects = st.tuples(id_strings, st.sampled_from([*TABLES, "other"])).map(lambda p: Id(*p))
oddities = st.sampled_from([(1,), bytearray(b"x"), MISSING, Color.RED, "\ud800", 2**64, 2**53 + 1])
anything = st.one_of(convex_values(max_leaves=6), id_strings, id_objects, oddities)


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


LEAF_VALUES: dict[type[Validator], st.SearchStrategy[Any]] = {
    StringValidator: st.one_of(st.text(max_size=4), id_objects),
    Float64Validator: st.one_of(st.floats(), st.integers(-(2**60), 2**60)),
    Int64Validator: st.integers(INT64_MIN - 2, INT64_MAX + 2),
    BooleanValidator: st.booleans(),
    NullValidator: st.none(),
    BytesValidator: st.binary(max_size=4),
    AnyValidator: anything,
    IdValidator: st.one_of(id_strings, id_objects),
}


@st.composite
def near_values(draw: st.DrawFn, validator: Validator) -> Any:
    """Mostly values shaped like ``validator`` wants, with mistakes at random depths."""
    if draw(st.integers(0, 7)) == 0:
        return draw(anything)
    if isinstance(validator, OptionalValidator):
        return draw(near_values(validator.inner))
    if isinstance(validator, ArrayValidator):
        items = draw(st.lists(near_values(validator.item), max_size=3))
        return draw(st.sampled_from([items, items, items, tuple(items), OtherList(items)]))
    if isinstance(validator, UnionValidator):
        return draw(near_values(draw(st.sampled_from(validator.members))))
    if isinstance(validator, RecordValidator):
        keys = st.one_of(near_values(validator.keys), names).filter(_hashable)
        record = draw(st.dictionaries(keys, near_values(validator.values), max_size=3))
        if draw(st.integers(0, 3)) == 0:  # a key no record may have, whatever its validator
            record[draw(bad_names)] = draw(near_values(validator.values))
        return draw(st.sampled_from([record, record, record, OtherDict(record)]))
    if isinstance(validator, ObjectValidator):
        result = {}
        for name, field in validator.fields.items():
            if draw(st.integers(0, 9)) > (4 if field.is_optional else 0):
                result[name] = draw(near_values(field))
        if draw(st.integers(0, 9)) == 0:
            result[draw(names)] = draw(anything)
        return draw(st.sampled_from([result, result, result, OtherDict(result)]))
    if isinstance(validator, LiteralValidator):
        literal = validator.value
        if isinstance(literal, float) and math.isfinite(literal) and literal == int(literal):
            return draw(st.sampled_from([literal, int(literal)]))
        return literal
    return draw(LEAF_VALUES[type(validator)])


def _fast(validator: Validator, value: Any, resolver: IdResolver | None) -> tuple[bool, Any]:
    try:
        return True, SchemaValidator(validator._core_schema()).validate_python(
            value, context=resolver
        )
    except CoreValidationError:
        return False, None


def _slow(validator: Validator, value: Any, resolver: IdResolver | None) -> tuple[bool, Any]:
    try:
        return True, validator._walk(value, "", resolver)
    except ValidationError:
        return False, None


@settings(max_examples=600)
@given(data=st.data(), validator=validators, resolver=st.sampled_from([None, resolve]))
def test_fast_path_and_diagnosis_agree(
    data: st.DataObject, validator: Validator, resolver: IdResolver | None
) -> None:
    value = data.draw(near_values(validator), label="value")
    fast_ok, fast_result = _fast(validator, value, resolver)
    slow_ok, slow_result = _slow(validator, value, resolver)
    assert fast_ok == slow_ok
    if fast_ok:
        assert same(fast_result, slow_result)
        assert same(validator.validate(value, resolve_id=resolver), fast_result)
        check_value(fast_result)  # whatever passes is storable
    else:
        error = rejection(validator, value, resolve_id=resolver, path=".x")
        assert error.path.startswith(".x")
        assert error.validator.startswith("v.")


@settings(max_examples=300)
@given(validator=validators)
def test_json_round_trip(validator: Validator) -> None:
    data = json.loads(json.dumps(validator.to_json()))  # survives real JSON text
    rebuilt = validator_from_json(data)
    assert rebuilt == validator
    assert hash(rebuilt) == hash(validator)
    assert rebuilt.describe() == validator.describe()
    assert rebuilt.to_json() == validator.to_json()


@settings(max_examples=200)
@given(validator=validators, value=anything)
def test_validate_never_returns_the_callers_container(validator: Validator, value: Any) -> None:
    try:
        result = validator.validate(value)
    except ValidationError:
        return
    if isinstance(value, list | dict):
        assert result is not value


def test_an_enormous_value_still_gives_a_readable_error() -> None:
    with pytest.raises(ValidationError) as caught:
        v.float64().validate(10**5000)
    assert len(str(caught.value)) < 400
    with pytest.raises(ValidationError) as caught:
        v.object({"a": v.string()}).validate({"a": "x", "extra": "y" * 10_000})
    assert len(str(caught.value)) < 600
