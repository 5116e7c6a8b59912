"""The inlined fast paths of ``values`` and ``index_keys`` agree with the plain
recursive definitions they replace, on valid values and on near misses."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convex_sim import index_keys, values
from convex_sim.errors import InvalidValueError
from convex_sim.values import (
    COMMIT_TS,
    INT64_MAX,
    INT64_MIN,
    MAX_ARRAY_LENGTH,
    MAX_FIELD_NAME_LENGTH,
    MAX_OBJECT_FIELDS,
    Id,
    check_document,
    copy_value,
    value_size,
)
from tests.strategies import convex_values, field_names

_FIELD_NAME_CHARS = frozenset(chr(c) for c in range(0x20, 0x7F))


def _reference_valid(value: Any, depth_left: int) -> bool:
    kind = type(value)
    if kind in (type(None), bool, float, bytes, Id):
        return True
    if kind is str:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if kind is int:
        return bool(INT64_MIN <= value <= INT64_MAX)
    if kind is dict:
        if depth_left <= 0 or len(value) > MAX_OBJECT_FIELDS:
            return False
        return all(
            type(key) is str
            and len(key) <= MAX_FIELD_NAME_LENGTH
            and not key.startswith("$")
            and _FIELD_NAME_CHARS.issuperset(key)
            and _reference_valid(item, depth_left - 1)
            for key, item in value.items()
        )
    if kind is list:
        if depth_left <= 0 or len(value) > MAX_ARRAY_LENGTH:
            return False
        return all(_reference_valid(item, depth_left - 1) for item in value)
    return value is COMMIT_TS


def _reference_copy(value: Any) -> Any:
    if type(value) is dict:
        return {k: _reference_copy(item) for k, item in value.items()}
    if type(value) is list:
        return [_reference_copy(item) for item in value]
    return value


# Near misses: every way a quick pass could wrongly accept or reject.
_odd_leaves = st.sampled_from(
    [
        INT64_MAX + 1,
        INT64_MIN - 1,
        "\ud800",
        "é",
        (1, 2),
        COMMIT_TS,
        values.MISSING,
        Id("x" * 31, "t"),
        bytearray(b"x"),
    ]
)
_odd_names = st.one_of(
    st.text(max_size=4),
    st.sampled_from(["$x", "a\x7f", "é", "", "x" * (MAX_FIELD_NAME_LENGTH + 1), "_id"]),
    st.integers(0, 3),
)


def _near_values() -> st.SearchStrategy[Any]:
    return st.recursive(
        st.one_of(convex_values(max_leaves=4), _odd_leaves),
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(_odd_names, children, max_size=4),
        ),
        max_leaves=10,
    )


@given(_near_values(), st.integers(0, 4))
def test_quick_check_matches_the_reference(value: Any, depth: int) -> None:
    values._known_field_names.clear()
    assert values._valid(value, depth) == _reference_valid(value, depth)
    assert values._valid(value, depth) == _reference_valid(value, depth)  # names now cached


def test_a_cached_field_name_does_not_excuse_a_bad_one_or_a_non_str_key() -> None:
    assert values._valid({"name": 1.0}, 4)
    assert not values._valid({"$name": 1.0}, 4)
    assert not values._valid({Id("name", "t"): 1.0}, 4)
    assert not values._valid({"name": "\ud800"}, 4)
    assert not values._valid({"name": INT64_MAX + 1}, 4)


@given(convex_values())
def test_value_size_matches_the_reference(value: Any) -> None:
    assert value_size(value) == _definition_size(value)


@given(st.dictionaries(st.text(max_size=3), convex_values(max_leaves=4), max_size=4))
def test_value_size_of_objects_with_any_keys_matches(value: dict[str, Any]) -> None:
    try:
        expected: Any = _definition_size(value)
    except UnicodeEncodeError:
        expected = UnicodeEncodeError
    if expected is UnicodeEncodeError:
        with pytest.raises(UnicodeEncodeError):
            value_size(value)
    else:
        assert value_size(value) == expected


@given(convex_values())
def test_copy_value_is_an_equal_deep_copy_sharing_no_container(value: Any) -> None:
    copied = copy_value(value)
    assert repr(copied) == repr(_reference_copy(value))

    def containers(item: Any) -> list[int]:
        if type(item) is dict:
            return [id(item), *(i for child in item.values() for i in containers(child))]
        if type(item) is list:
            return [id(item), *(i for child in item for i in containers(child))]
        return []

    assert not set(containers(copied)) & set(containers(value))


def test_check_document_still_names_the_bad_field() -> None:
    doc = {"_id": Id("x" * 31, "t"), "_creationTime": 1.0, "value": 3.0}
    assert check_document(doc, table="t") == value_size(doc)
    with pytest.raises(InvalidValueError, match=r"Field '_x' in table 't' starts with '_'"):
        check_document({"_x": 1.0}, table="t")
    with pytest.raises(InvalidValueError, match=r"Top-level field 'aaaa"):
        check_document({"a" * 65: 1.0}, table="t")
    with pytest.raises(InvalidValueError, match=r"must be strings in table 't', got 1"):
        check_document({1: 1.0}, table="t")  # type: ignore[dict-item]


def _reference_encode(value: Any) -> bytes:
    def escape(raw: bytes) -> bytes:
        return raw.replace(b"\x00", b"\x00\xff") + b"\x00"

    if isinstance(value, str):
        return b"\x07" + escape(value.encode("utf-8"))
    if type(value) is float:
        return b"\x04" + values.float_total_order_key(value).to_bytes(8, "big")
    if value is None:
        return b"\x02"
    if type(value) is bool:
        return b"\x06" if value else b"\x05"
    if type(value) is int:
        return b"\x03" + (value + (1 << 63)).to_bytes(8, "big")
    if value is values.MISSING:
        return b"\x01"
    if value is COMMIT_TS:
        return b"\x03" + (INT64_MAX + (1 << 63)).to_bytes(8, "big")
    if type(value) is bytes:
        return b"\x08" + escape(value)
    if type(value) is list:
        return b"\x09" + b"".join(_reference_encode(item) for item in value) + b"\x00"
    assert type(value) is dict
    parts = [b"\x0a"]
    for name in sorted(value, key=lambda n: n.encode("utf-8")):
        parts += [b"\x01" + escape(name.encode("utf-8")), _reference_encode(value[name])]
    return b"".join([*parts, b"\x00"])


@given(st.one_of(convex_values(), st.sampled_from([values.MISSING, COMMIT_TS, Id("a\x00b", "t")])))
def test_encode_value_is_byte_identical_to_the_reference(value: Any) -> None:
    assert index_keys.encode_value(value) == _reference_encode(value)


@given(
    st.dictionaries(field_names, convex_values(max_leaves=6), max_size=4),
    st.lists(st.one_of(field_names, st.sampled_from(["a.b", "a.b.c", "x", "_id"])), max_size=4),
)
def test_document_key_encodes_each_field_value_in_turn(
    document: dict[str, Any], fields: list[str]
) -> None:
    expected = b"".join(
        _reference_encode(index_keys.field_value(document, name)) for name in fields
    )
    assert index_keys.document_key(document, fields) == expected


def test_str_subclasses_still_encode_as_strings_and_other_types_are_refused() -> None:
    class Name(str):
        pass

    assert index_keys.encode_value(Name("ab")) == index_keys.encode_value("ab")
    with pytest.raises(InvalidValueError, match="cannot be part of an index key"):
        index_keys.encode_value((1,))


def test_check_identifier_cache_only_skips_names_already_found_valid() -> None:
    from convex_sim.errors import TableNameError
    from convex_sim.schema import check_identifier

    assert check_identifier("events", what="Table name") == "events"
    assert check_identifier("events", what="Index name") == "events"  # cached
    for bad, message in [
        ("1events", "is not a valid identifier"),
        ("__", "cannot consist only of underscores"),
        ("x" * 65, "is longer than 64 characters"),
        (b"events", "must be a string, got bytes"),
    ]:
        with pytest.raises(TableNameError, match=f"^Index name .*{message}"):
            check_identifier(bad, what="Index name")


def _reference_contains_commit_ts(value: Any) -> bool:
    if value is COMMIT_TS:
        return True
    if type(value) is dict:
        return any(_reference_contains_commit_ts(item) for item in value.values())
    if type(value) is list:
        return any(_reference_contains_commit_ts(item) for item in value)
    return False


@given(_near_values())
def test_contains_commit_ts_matches_the_reference(value: Any) -> None:
    assert values.contains_commit_ts(value) == _reference_contains_commit_ts(value)


def _size_outcome(size: Any, value: Any) -> Any:
    try:
        return size(value)
    except Exception as error:  # the same exception, message included, as the definition
        return (type(error), str(error))


_size_leaves = st.one_of(
    convex_values(max_leaves=3),
    st.sampled_from(
        ["\ud800", "é", "x\ud800y", Id("x" * 31, "t"), Id("é", "t"), True, False, None, b"ab"]
    ),
    st.sampled_from([COMMIT_TS, values.MISSING, (1, 2), bytearray(b"x"), 2.0**60, 2**70]),
)
_size_keys = st.one_of(st.text(max_size=3), st.sampled_from(["\ud800", "é", Id("k", "t")]))


def _size_values() -> st.SearchStrategy[Any]:
    return st.recursive(
        _size_leaves,
        lambda children: st.one_of(
            st.lists(children, max_size=5),
            st.lists(st.one_of(st.text(max_size=3), _size_leaves), max_size=5),
            st.dictionaries(_size_keys, children, max_size=4),
        ),
        max_leaves=12,
    )


def _definition_size(value: Any) -> int:
    """The plain recursive definition, raising what ``value_size`` always raised."""
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, int | float) or value is COMMIT_TS:
        return 9
    if isinstance(value, str):
        return 2 + len(value.encode("utf-8"))
    if isinstance(value, bytes):
        return 2 + len(value)
    if isinstance(value, list):
        return 2 + sum(_definition_size(item) for item in value)
    if isinstance(value, dict):
        return 2 + sum(len(k.encode()) + 1 + _definition_size(item) for k, item in value.items())
    raise InvalidValueError(f"{values.type_name(value)} has no Convex size")


@given(_size_values())
def test_value_size_shortcuts_match_the_general_definition(value: Any) -> None:
    expected = _size_outcome(_definition_size, value)
    assert _size_outcome(value_size, value) == expected
    assert _size_outcome(values._general_size, value) == expected


@given(st.lists(st.one_of(st.text(max_size=4), st.sampled_from([Id("ab", "t"), "\ud800", 1.0]))))
def test_value_size_of_string_lists_is_joined_correctly(value: list[Any]) -> None:
    assert _size_outcome(value_size, value) == _size_outcome(_definition_size, value)
