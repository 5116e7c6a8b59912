"""Every error the emulator raises, under one root.

Why one module: a user who catches ``ConvexSimError`` catches everything the
emulator itself complains about, and the messages stay in one place where
their wording can be compared with the real backend's. ``ConvexError`` is the
exception *user code* throws to carry data to the caller; it shares the root so
``except ConvexSimError`` in a test harness sees it too.

Messages name the culprit (argument path, validator, table, index, id) and,
where there is one, the fix.
"""

from __future__ import annotations

import reprlib
from typing import Any


class _ShortRepr(reprlib.Repr):
    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 200:
            return f"<integer of {x.bit_length()} bits>"
        return super().repr_int(x, level)


_short = _ShortRepr()
_short.maxstring = 80
_short.maxother = 80
_short.maxlong = 60
_short.maxlist = _short.maxdict = _short.maxtuple = _short.maxset = 8
_short.maxlevel = 4


def short_repr(value: Any) -> str:
    """A bounded repr for messages: huge ints, long strings and big documents stay readable."""
    return _short.repr(value)


class ConvexSimError(Exception):
    """Root of every error the emulator raises."""


class ConvexError(ConvexSimError):
    """Thrown by application code to send structured ``data`` to the caller.

    Like Convex's ``ConvexError``: it is a user error, so a mutation that
    throws it is rolled back and never retried.
    """

    def __init__(self, data: Any) -> None:
        self.data = data
        super().__init__(data if isinstance(data, str) else repr(data))


class InvalidValueError(ConvexSimError, ValueError):
    """A Python object is not a Convex value, or breaks a size/shape limit."""

    def __init__(self, message: str, *, path: str = "") -> None:
        self.message = message
        self.path = path
        where = f" at path {path}" if path else ""
        super().__init__(f"{message}{where}")


class ValidationError(ConvexSimError, ValueError):
    """A value does not match a validator.

    ``path`` is the location inside the validated value (``.config.debounceMs``,
    ``[3]``), ``value`` the offending part and ``validator`` what was expected
    there, in ``v.*`` notation.
    """

    def __init__(
        self,
        reason: str,
        *,
        path: str,
        value: Any,
        validator: str,
        context: str = "",
    ) -> None:
        self.reason = reason
        self.path = path
        self.value = value
        self.validator = validator
        self.context = context
        lines = [f"{context}: {reason}" if context else reason]
        lines.append(f"Path: {path or '(root)'}")
        lines.append(f"Value: {short_repr(value)}")
        lines.append(f"Validator: {validator}")
        super().__init__("\n".join(lines))

    def with_context(self, context: str) -> ValidationError:
        """The same failure, prefixed by where it happened (a function, a table)."""
        full = f"{context}: {self.context}" if self.context else context
        return type(self)(
            self.reason,
            path=self.path,
            value=self.value,
            validator=self.validator,
            context=full,
        )


class SchemaError(ConvexSimError, ValueError):
    """A schema, table or index definition is invalid."""


class TableNameError(ConvexSimError, ValueError):
    """A table name is not a valid identifier or names a reserved table."""


class IndexNotFoundError(ConvexSimError, LookupError):
    """``with_index`` named an index the table does not have (§2.5)."""

    def __init__(self, table: str, index: str) -> None:
        self.table = table
        self.index = index
        super().__init__(f"Index {table}.{index} not found.")


class InvalidIndexRangeError(ConvexSimError, ValueError):
    """An index range expression breaks the rules of §2.2."""


class InvalidQueryError(ConvexSimError, ValueError):
    """A query was built or consumed in a way Convex rejects."""


class UniqueQueryError(ConvexSimError):
    """``unique()`` found more than one document."""


class MultiplePaginatedQueriesError(ConvexSimError):
    """A second ``paginate`` in one function execution (§2.4)."""

    def __init__(self) -> None:
        super().__init__(
            "MultiplePaginatedDatabaseQueries: This query or mutation function ran "
            "multiple paginated queries. Convex only supports a single paginated "
            "query in each function."
        )


class InvalidIdError(ConvexSimError, ValueError):
    """An id is malformed or belongs to another table than the one named."""


class DocumentNotFoundError(ConvexSimError, LookupError):
    """patch/replace/delete of a document that does not exist (§3.2)."""


class SystemTableError(ConvexSimError, PermissionError):
    """A system table was reached through ``db`` or a user table through ``db.system``."""


class ReadOnlyError(ConvexSimError, PermissionError):
    """A write was attempted where only reads are allowed (a query, a snapshot)."""


class TransactionClosedError(ConvexSimError, RuntimeError):
    """A transaction was used after it committed or aborted."""


class SnapshotTooOldError(ConvexSimError, LookupError):
    """A read asked for a version the store has already pruned."""
