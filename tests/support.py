"""A bare harness over the database layer: one transaction at a time, no functions.

Lets the foundation tests exercise ``ctx.db`` exactly as handlers will see it,
before (and independently of) the function runtime.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from convex_sim.checkpoint import drive
from convex_sim.database import Database
from convex_sim.db import CreationTimes, DatabaseReader, DatabaseWriter, DbSession
from convex_sim.schema import Schema
from convex_sim.seeds import ExecutionSeed
from convex_sim.transaction import Transaction

T = TypeVar("T")


class Harness:
    def __init__(self, schema: Schema | None = None, *, seed: int = 0, keep_history: bool = False):
        self.database = Database(keep_history=keep_history)
        self.schema = schema
        if schema is not None:
            self.database.install_schema("", schema)
        self.rng = random.Random(seed)
        self.now_ms = 1_000.0
        self.last_transaction: Transaction | None = None

    def open(self, *, read_only: bool = False) -> tuple[DatabaseWriter, Transaction]:
        """A transaction left open, for tests that interleave by hand."""
        transaction = self.database.begin(read_only=read_only)
        session = DbSession(
            database=self.database,
            transaction=transaction,
            namespace="",
            schema=self.schema,
            seeds=ExecutionSeed(self.rng.getrandbits(64)),
            creation_times=CreationTimes(self.database, self.now_ms),
        )
        return DatabaseWriter(session), transaction

    def run(self, handler: Callable[[DatabaseWriter], Awaitable[T]]) -> T:
        """Run ``handler(db)`` in one transaction and commit it; on error, commit nothing."""
        db, transaction = self.open()
        self.last_transaction = transaction
        try:
            result = drive(handler(db))  # type: ignore[arg-type]
        except BaseException:
            self.database.release(transaction)
            raise
        self.database.commit(transaction, now_ms=self.now_ms)
        return result

    def read(self, handler: Callable[[DatabaseReader], Awaitable[T]]) -> tuple[T, Transaction]:
        """Run a read-only handler; returns its result and its (closed) transaction."""
        db, transaction = self.open(read_only=True)
        try:
            result = drive(handler(db))  # type: ignore[arg-type]
        finally:
            self.database.release(transaction)
        return result, transaction

    def insert_many(self, table: str, documents: list[dict[str, Any]]) -> list[str]:
        async def insert(db: DatabaseWriter) -> list[str]:
            return [await db.insert(table, document) for document in documents]

        return self.run(insert)
