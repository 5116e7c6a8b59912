"""Schemas: tables, their document validators and their indexes.

Implements convex-semantics.md §1.4 (names) and §1.8 (implicit indexes and the
fields appended to every user index). A schema is plain data: the store learns
the indexes from it, and the transaction layer uses it to validate writes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from convex_sim.errors import SchemaError, TableNameError, ValidationError
from convex_sim.validators import ObjectValidator, UnionValidator, Validator, as_validator

BY_ID: Final = "by_id"
BY_CREATION_TIME: Final = "by_creation_time"
RESERVED_INDEX_NAMES: Final = frozenset({BY_ID, BY_CREATION_TIME})
MAX_INDEXES_PER_TABLE: Final = 32
MAX_INDEX_FIELDS: Final = 16
MAX_IDENTIFIER_LENGTH: Final = 64

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


_KNOWN_IDENTIFIERS_LIMIT: Final = 1024
_known_identifiers: set[str] = set()
"""Names that passed :func:`check_identifier`. Every ``ctx.db`` call checks its
table name, and an app has few tables; emptied when full."""


def check_identifier(name: Any, *, what: str) -> str:
    """Table and index names: ``[A-Za-z_][A-Za-z0-9_]*``, ≤ 64 chars, not all underscores."""
    if type(name) is str and name in _known_identifiers:
        return name  # whether a name is valid does not depend on ``what``
    if not isinstance(name, str):
        raise TableNameError(f"{what} must be a string, got {type(name).__name__}")
    if not _IDENTIFIER.match(name):
        raise TableNameError(
            f"{what} {name!r} is not a valid identifier: use letters, digits and "
            "underscores, not starting with a digit"
        )
    if len(name) > MAX_IDENTIFIER_LENGTH:
        raise TableNameError(f"{what} {name!r} is longer than {MAX_IDENTIFIER_LENGTH} characters")
    if set(name) == {"_"}:
        raise TableNameError(f"{what} {name!r} cannot consist only of underscores")
    if type(name) is str:
        if len(_known_identifiers) >= _KNOWN_IDENTIFIERS_LIMIT:
            _known_identifiers.clear()
        _known_identifiers.add(name)
    return name


def check_user_table_name(name: Any) -> str:
    check_identifier(name, what="Table name")
    if name.startswith("_"):
        raise TableNameError(
            f"Table name {name!r} starts with '_', which is reserved for system tables"
        )
    return str(name)


@dataclass(frozen=True)
class IndexDefinition:
    """An index as the store keeps it: ``key_fields`` include the appended system fields."""

    name: str
    fields: tuple[str, ...]
    """The fields the user named (empty for the implicit indexes)."""
    key_fields: tuple[str, ...]
    """Every field of the key, in order: user fields, then ``_creationTime``, ``_id``."""


BY_ID_INDEX: Final = IndexDefinition(BY_ID, (), ("_id",))
BY_CREATION_TIME_INDEX: Final = IndexDefinition(BY_CREATION_TIME, (), ("_creationTime", "_id"))


def user_index(name: str, fields: Iterable[str], *, table: str) -> IndexDefinition:
    check_identifier(name, what=f"Index name on table {table!r}")
    if name in RESERVED_INDEX_NAMES:
        raise SchemaError(f"Index name {name!r} on table {table!r} is reserved")
    if name.startswith("_"):
        raise SchemaError(f"Index name {name!r} on table {table!r} cannot start with '_'")
    if isinstance(fields, str):
        raise SchemaError(
            f"Index {table}.{name}: fields must be a list of field names, not the string "
            f"{fields!r}; write [{fields!r}]"
        )
    names = tuple(fields)
    if not names:
        raise SchemaError(f"Index {table}.{name} must name at least one field")
    for field_path in names:
        if not isinstance(field_path, str) or not field_path:
            raise SchemaError(f"Index {table}.{name}: {field_path!r} is not a field path")
        if any(part.startswith("_") for part in field_path.split(".")):
            raise SchemaError(
                f"Index {table}.{name}: field {field_path!r} is a system field; "
                "_creationTime and _id are appended to every index automatically"
            )
    if len(set(names)) != len(names):
        raise SchemaError(f"Index {table}.{name} names a field twice: {list(names)}")
    if len(names) + 1 > MAX_INDEX_FIELDS:
        raise SchemaError(
            f"Index {table}.{name} has {len(names)} fields; with _creationTime appended "
            f"the limit is {MAX_INDEX_FIELDS}"
        )
    return IndexDefinition(name, names, (*names, "_creationTime", "_id"))


@dataclass
class TableDefinition:
    """A table in a schema: a document validator (or none) and its indexes."""

    validator: Validator | None
    indexes: dict[str, IndexDefinition] = field(default_factory=dict)
    name: str | None = None

    def index(self, name: str, fields: Iterable[str]) -> TableDefinition:
        """Add an index over ``fields``; returns the table so calls chain."""
        table = self.name or "<table>"
        definition = user_index(name, fields, table=table)
        if name in self.indexes:
            raise SchemaError(f"Index {table}.{name} is defined twice")
        if len(self.indexes) >= MAX_INDEXES_PER_TABLE:
            raise SchemaError(
                f"Table {table!r} already has {MAX_INDEXES_PER_TABLE} indexes, the limit"
            )
        self.indexes[name] = definition
        return self

    def all_indexes(self) -> dict[str, IndexDefinition]:
        return {BY_ID: BY_ID_INDEX, BY_CREATION_TIME: BY_CREATION_TIME_INDEX, **self.indexes}

    def field_names(self) -> list[str] | None:
        """The top-level fields a document may have, in schema order; None if open-ended
        (no validator, or one that is not an object or a union of objects)."""
        return None if self.validator is None else _field_names(self.validator)


def _field_names(validator: Validator) -> list[str] | None:
    if isinstance(validator, ObjectValidator):
        return list(validator.fields)
    if isinstance(validator, UnionValidator):
        names: dict[str, None] = {}
        for member in validator.members:
            found = _field_names(member)
            if found is None:
                return None
            names.update(dict.fromkeys(found))
        return list(names)
    return None


def define_table(document: Mapping[str, Validator] | Validator | None = None) -> TableDefinition:
    """A table whose documents match ``document`` (a dict of field validators or a validator)."""
    return TableDefinition(None if document is None else as_validator(document))


@dataclass
class Schema:
    """The tables of an app or component, and whether writes are validated against them."""

    tables: dict[str, TableDefinition]
    schema_validation: bool = True

    def table(self, name: str) -> TableDefinition | None:
        return self.tables.get(name)

    def indexes_of(self, name: str) -> dict[str, IndexDefinition]:
        table = self.tables.get(name)
        if table is None:
            return {BY_ID: BY_ID_INDEX, BY_CREATION_TIME: BY_CREATION_TIME_INDEX}
        return table.all_indexes()

    def validate_document(
        self,
        table: str,
        document: Mapping[str, Any],
        *,
        resolve_id: Any = None,
    ) -> dict[str, Any]:
        """The user fields of ``document`` as they will be stored, or a ValidationError.

        Tables the schema does not declare are not validated (§3.1).
        """
        user_fields = {k: item for k, item in document.items() if not k.startswith("_")}
        definition = self.tables.get(table)
        if not self.schema_validation or definition is None or definition.validator is None:
            return user_fields
        try:
            validated: dict[str, Any] = definition.validator.validate(
                user_fields, resolve_id=resolve_id
            )
        except ValidationError as error:
            raise error.with_context(
                f"Failed to insert or update a document in table {table!r} because it "
                "does not match the schema"
            ) from None
        return validated


def define_schema(
    tables: Mapping[str, TableDefinition],
    *,
    schema_validation: bool = True,
) -> Schema:
    """A schema from ``{table name: define_table(...)}``.

    ``schema_validation=False`` stores documents without checking them, as
    Convex's ``defineSchema(..., {schemaValidation: false})`` does.
    """
    named: dict[str, TableDefinition] = {}
    for name, definition in tables.items():
        check_user_table_name(name)
        if not isinstance(definition, TableDefinition):
            raise SchemaError(
                f"Table {name!r}: expected define_table(...), got {type(definition).__name__}"
            )
        if definition.name not in (None, name):
            raise SchemaError(
                f"The same define_table(...) is used for tables {definition.name!r} and {name!r}"
            )
        definition.name = name
        named[name] = definition
    return Schema(named, schema_validation)
