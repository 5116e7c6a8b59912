"""Filter expressions (``query.filter(lambda q: ...)``) and index range expressions.

Implements convex-semantics.md §2.2 (which index ranges are legal and what
they cover) and the ``.filter`` half of §2.3. Comparisons use the Convex
total order (§1.2), not Python's: ``q.lt(1, 1.5)`` is an int64 against a
float64, and every int64 sorts before every float64. Arithmetic needs both
operands of one type (int64 with int64, float64 with float64), as in Convex;
int64 division and remainder round toward zero like BigInt's.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from convex_sim.errors import InvalidIndexRangeError, InvalidQueryError
from convex_sim.index_keys import KEY_MAX, PREFIX_END, encode_value, prefix_end
from convex_sim.schema import IndexDefinition
from convex_sim.values import MISSING, check_value, compare, type_name

# --------------------------------------------------------------------------
# Filter expressions
# --------------------------------------------------------------------------


class Expression:
    """A node of a filter expression; evaluate it against a document."""

    def evaluate(self, document: dict[str, Any]) -> Any:
        raise NotImplementedError


@dataclass(frozen=True)
class _Literal(Expression):
    value: Any

    def evaluate(self, document: dict[str, Any]) -> Any:
        return self.value


@dataclass(frozen=True)
class _Field(Expression):
    path: str

    def evaluate(self, document: dict[str, Any]) -> Any:
        current: Any = document
        for part in self.path.split("."):
            if type(current) is not dict or part not in current:
                return MISSING
            current = current[part]
        return current


@dataclass(frozen=True)
class _Apply(Expression):
    name: str
    function: Callable[..., Any]
    operands: tuple[Expression, ...]

    def evaluate(self, document: dict[str, Any]) -> Any:
        return self.function(*(operand.evaluate(document) for operand in self.operands))


def _expression(value: Any) -> Expression:
    if isinstance(value, Expression):
        return value
    if value is not MISSING:
        check_value(value, path="(filter literal)")
    return _Literal(value)


def _truthy(value: Any, where: str) -> bool:
    if type(value) is not bool:
        raise InvalidQueryError(f"{where} expects booleans, got {type_name(value)} {value!r}")
    return value


def _arithmetic(name: str, operator: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def apply(left: Any, right: Any) -> Any:
        kinds = {type(left), type(right)}
        if kinds == {int}:
            return operator(left, right)
        if kinds <= {float}:
            return operator(left, right)
        raise InvalidQueryError(
            f"q.{name} needs two int64s or two float64s, got {type_name(left)} and "
            f"{type_name(right)}"
        )

    return apply


def _truncated_quotient(left: int, right: int, name: str) -> int:
    """Integer division rounding toward zero, as BigInt division does."""
    if right == 0:
        raise InvalidQueryError(f"q.{name}: int64 division by zero")
    quotient = abs(left) // abs(right)
    return quotient if (left >= 0) == (right >= 0) else -quotient


def _divide(left: Any, right: Any) -> Any:
    if type(left) is int and type(right) is int:
        return _truncated_quotient(left, right, "div")
    if right == 0:
        return math.copysign(math.inf, left) * math.copysign(1.0, right) if left else math.nan
    return left / right


def _modulo(left: Any, right: Any) -> Any:
    if type(left) is int and type(right) is int:
        return left - right * _truncated_quotient(left, right, "mod")
    return math.fmod(left, right) if right else math.nan


class FilterBuilder:
    """The ``q`` handed to ``.filter``: ``q.eq(q.field("a"), 1)``, ``q.and_(...)``, ...

    ``and``, ``or`` and ``not`` are Python keywords, so they are spelled
    ``and_``, ``or_`` and ``not_``.
    """

    def field(self, path: str) -> Expression:
        if not isinstance(path, str) or not path:
            raise InvalidQueryError(f"q.field expects a field path string, got {path!r}")
        return _Field(path)

    def _compare(self, name: str, test: Callable[[int], bool], left: Any, right: Any) -> Expression:
        return _Apply(
            name, lambda a, b: test(compare(a, b)), (_expression(left), _expression(right))
        )

    def eq(self, left: Any, right: Any) -> Expression:
        return self._compare("eq", lambda c: c == 0, left, right)

    def neq(self, left: Any, right: Any) -> Expression:
        return self._compare("neq", lambda c: c != 0, left, right)

    def lt(self, left: Any, right: Any) -> Expression:
        return self._compare("lt", lambda c: c < 0, left, right)

    def lte(self, left: Any, right: Any) -> Expression:
        return self._compare("lte", lambda c: c <= 0, left, right)

    def gt(self, left: Any, right: Any) -> Expression:
        return self._compare("gt", lambda c: c > 0, left, right)

    def gte(self, left: Any, right: Any) -> Expression:
        return self._compare("gte", lambda c: c >= 0, left, right)

    def and_(self, *operands: Any) -> Expression:
        return _Apply(
            "and",
            lambda *xs: all(_truthy(x, "q.and_") for x in xs),
            tuple(map(_expression, operands)),
        )

    def or_(self, *operands: Any) -> Expression:
        return _Apply(
            "or",
            lambda *xs: any(_truthy(x, "q.or_") for x in xs),
            tuple(map(_expression, operands)),
        )

    def not_(self, operand: Any) -> Expression:
        return _Apply("not", lambda x: not _truthy(x, "q.not_"), (_expression(operand),))

    def add(self, left: Any, right: Any) -> Expression:
        return _Apply(
            "add", _arithmetic("add", lambda a, b: a + b), (_expression(left), _expression(right))
        )

    def sub(self, left: Any, right: Any) -> Expression:
        return _Apply(
            "sub", _arithmetic("sub", lambda a, b: a - b), (_expression(left), _expression(right))
        )

    def mul(self, left: Any, right: Any) -> Expression:
        return _Apply(
            "mul", _arithmetic("mul", lambda a, b: a * b), (_expression(left), _expression(right))
        )

    def div(self, left: Any, right: Any) -> Expression:
        return _Apply("div", _arithmetic("div", _divide), (_expression(left), _expression(right)))

    def mod(self, left: Any, right: Any) -> Expression:
        return _Apply("mod", _arithmetic("mod", _modulo), (_expression(left), _expression(right)))

    def neg(self, operand: Any) -> Expression:
        def negate(value: Any) -> Any:
            if type(value) not in (int, float):
                raise InvalidQueryError(f"q.neg needs a number, got {type_name(value)}")
            return -value

        return _Apply("neg", negate, (_expression(operand),))


FILTER_BUILDER = FilterBuilder()


def compile_filter(predicate: Callable[[FilterBuilder], Any]) -> Callable[[dict[str, Any]], bool]:
    """Turn ``lambda q: ...`` into a document predicate (a document passes on ``True``)."""
    expression = _expression(predicate(FILTER_BUILDER))
    return lambda document: expression.evaluate(document) is True


# --------------------------------------------------------------------------
# Index range expressions (§2.2)
# --------------------------------------------------------------------------


class IndexRangeBuilder:
    """The ``q`` handed to ``with_index``: ``q.eq("a", 1).gt("b", 2).lt("b", 9)``."""

    def __init__(self) -> None:
        self.eqs: list[tuple[str, Any]] = []
        self.lower: tuple[str, str, Any] | None = None
        self.upper: tuple[str, str, Any] | None = None

    def _value(self, value: Any, operation: str, field: str) -> Any:
        kind = type(value)
        if (kind is str and value.isascii()) or kind is float or value is None:
            return value  # certainly a Convex value: check_value would find nothing
        if value is not MISSING:
            check_value(value, path=f"(with_index {operation}({field!r}, ...))")
        return value

    def eq(self, field: str, value: Any) -> IndexRangeBuilder:
        if self.lower is not None or self.upper is not None:
            raise InvalidIndexRangeError(
                f"with_index: eq({field!r}) must come before any gt/gte/lt/lte bound"
            )
        self.eqs.append((field, self._value(value, "eq", field)))
        return self

    def _bound(self, which: str, operation: str, field: str, value: Any) -> IndexRangeBuilder:
        current = self.lower if which == "lower" else self.upper
        if current is not None:
            raise InvalidIndexRangeError(
                f"with_index: {operation}({field!r}) is a second {which} bound; "
                f"{current[0]}({current[1]!r}) already set one"
            )
        other = self.upper if which == "lower" else self.lower
        if other is not None and other[1] != field:
            raise InvalidIndexRangeError(
                f"with_index: bounds on two fields ({other[1]!r} and {field!r}); "
                "both bounds must be on the same field"
            )
        bound = (operation, field, self._value(value, operation, field))
        if which == "lower":
            self.lower = bound
        else:
            self.upper = bound
        return self

    def gt(self, field: str, value: Any) -> IndexRangeBuilder:
        return self._bound("lower", "gt", field, value)

    def gte(self, field: str, value: Any) -> IndexRangeBuilder:
        return self._bound("lower", "gte", field, value)

    def lt(self, field: str, value: Any) -> IndexRangeBuilder:
        return self._bound("upper", "lt", field, value)

    def lte(self, field: str, value: Any) -> IndexRangeBuilder:
        return self._bound("upper", "lte", field, value)


@dataclass(frozen=True, slots=True)
class KeyRange:
    """A compiled index range: keys in ``[start, end)``, and how it was written.

    The description is only needed for messages, so it is built when asked
    for rather than on every query (formatting the values is not free).
    """

    start: bytes
    end: bytes
    name: str
    """``table.index``."""
    terms: tuple[tuple[str, str, Any], ...] = ()
    """``(field, comparison, value)`` as written, e.g. ``("name", "==", "x")``."""

    @property
    def description(self) -> str:
        parts = ", ".join(f"{field} {symbol} {value!r}" for field, symbol, value in self.terms)
        return f"{self.name} ({parts or 'all'})"


def compile_index_range(
    table: str, index: IndexDefinition, builder: IndexRangeBuilder | None
) -> KeyRange:
    """The key interval an index range expression covers, or an error naming the broken rule."""
    name = f"{table}.{index.name}"
    if builder is None:
        return KeyRange(b"", KEY_MAX, name)
    positions = {field: position for position, field in enumerate(index.key_fields)}
    eqs = builder.eqs
    if (
        builder.lower is None
        and builder.upper is None
        and all(positions.get(field) == position for position, (field, _) in enumerate(eqs))
    ):
        # The common case, eqs on a prefix of the key written in index order: every
        # rule the general path checks holds, and the range is that prefix's keys.
        prefix = b"".join([encode_value(value) for _, value in eqs])
        terms = tuple([(field, "==", value) for field, value in eqs])
        return KeyRange(prefix, prefix_end(prefix), name, terms)
    return _compile_general(name, index, positions, builder)


def _compile_general(
    name: str, index: IndexDefinition, positions: dict[str, int], builder: IndexRangeBuilder
) -> KeyRange:
    eq_by_position: dict[int, tuple[str, Any]] = {}

    def position_of(field: str) -> int:
        position = positions.get(field)
        if position is None:
            raise InvalidIndexRangeError(
                f"with_index({index.name!r}): field {field!r} is not in index {name}, whose "
                f"fields are {list(index.key_fields)}"
            )
        return position

    for field, value in builder.eqs:
        position = position_of(field)
        if position in eq_by_position:
            raise InvalidIndexRangeError(f"with_index({index.name!r}): eq({field!r}) appears twice")
        eq_by_position[position] = (field, value)
    if sorted(eq_by_position) != list(range(len(eq_by_position))):
        missing = next(
            index.key_fields[p] for p in range(len(index.key_fields)) if p not in eq_by_position
        )
        raise InvalidIndexRangeError(
            f"with_index({index.name!r}): the eq fields must be a prefix of "
            f"{list(index.key_fields)}; "
            f"{missing!r} is skipped"
        )
    prefix = b"".join(encode_value(eq_by_position[p][1]) for p in range(len(eq_by_position)))
    terms = [
        (field, "==", value) for field, value in (eq_by_position[p] for p in sorted(eq_by_position))
    ]
    start, end = prefix, prefix_end(prefix)
    for bound in (builder.lower, builder.upper):
        if bound is None:
            continue
        operation, field, value = bound
        position = position_of(field)
        if position in eq_by_position:
            raise InvalidIndexRangeError(
                f"with_index({index.name!r}): {field!r} has both eq and {operation}"
            )
        if position != len(eq_by_position):
            raise InvalidIndexRangeError(
                f"with_index({index.name!r}): {operation}({field!r}) must be on the field right "
                f"after the eq fields, {index.key_fields[len(eq_by_position)]!r}"
            )
        encoded = prefix + encode_value(value)
        if operation == "gt":
            start = encoded + PREFIX_END
        elif operation == "gte":
            start = encoded
        elif operation == "lt":
            end = encoded
        else:
            end = encoded + PREFIX_END
        symbol = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[operation]
        terms.append((field, symbol, value))
    return KeyRange(start, end, name, tuple(terms))
