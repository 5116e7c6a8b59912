"""Functions for the §10 limit tests: each one pushes a single limit past its value.

Every function writes a ``marker`` row first, so a test can check that a
transaction stopped by a limit committed nothing.
"""

from __future__ import annotations

from typing import Any

from convex_sim import internal, internal_mutation, mutation, query, v


async def _marker(ctx: Any) -> None:
    await ctx.db.insert("markers", {"at": ctx.now_ms})


@mutation(args={"count": v.int64()})
async def insert_rows(ctx: Any, args: dict[str, Any]) -> int:
    await _marker(ctx)
    for i in range(args["count"]):
        await ctx.db.insert("rows", {"i": i})
    return int(args["count"])


@mutation(args={"times": v.int64()})
async def patch_one_row_repeatedly(ctx: Any, args: dict[str, Any]) -> int:
    """Every patch is a write op, even on the same document."""
    await _marker(ctx)
    row_id = await ctx.db.insert("rows", {"i": 0})
    for i in range(args["times"]):
        await ctx.db.patch(row_id, {"i": i + 1})
    return int(args["times"])


@mutation(args={"count": v.int64(), "size": v.int64()})
async def insert_blobs(ctx: Any, args: dict[str, Any]) -> int:
    await _marker(ctx)
    for i in range(args["count"]):
        await ctx.db.insert("blobs", {"blob": bytes([i % 256]) * args["size"]})
    return int(args["count"])


@mutation(args={"size": v.int64()})
async def insert_one_blob(ctx: Any, args: dict[str, Any]) -> None:
    await _marker(ctx)
    await ctx.db.insert("blobs", {"blob": b"\x00" * args["size"]})


@query(args={})
async def count_rows_matching_nothing(ctx: Any, args: dict[str, Any]) -> int:
    """A filter that rejects every row still scans every row."""
    return len(await ctx.db.query("rows").filter(lambda q: q.eq(q.field("i"), -1)).collect())


@query(args={"times": v.int64()})
async def scan_repeatedly(ctx: Any, args: dict[str, Any]) -> int:
    """Scan the whole ``rows`` table ``times`` times through a filter that rejects every row.

    The same range each time, so the read set stays one interval (once merged).
    """
    kept = 0
    for _ in range(args["times"]):
        kept += len(await ctx.db.query("rows").filter(lambda q: q.eq(q.field("i"), -1)).collect())
    return kept


@mutation(args={"depth": v.int64()})
async def insert_nested(ctx: Any, args: dict[str, Any]) -> None:
    """A document whose field holds objects nested ``depth`` deep."""
    await _marker(ctx)
    value: dict[str, Any] = {"leaf": True}
    for _ in range(args["depth"] - 1):
        value = {"n": value}
    await ctx.db.insert("nested", {"n": value})


@query(args={})
async def count_rows(ctx: Any, args: dict[str, Any]) -> int:
    return len(await ctx.db.query("rows").collect())


@query(args={})
async def blob_bytes(ctx: Any, args: dict[str, Any]) -> int:
    return sum(len(row["blob"]) for row in await ctx.db.query("blobs").collect())


@query(args={"count": v.int64()})
async def distinct_ranges(ctx: Any, args: dict[str, Any]) -> int:
    """``count`` point lookups on different keys: ``count`` separate read intervals."""
    found = 0
    for i in range(args["count"]):
        row = await ctx.db.query("rows").with_index("by_i", lambda q, i=i: q.eq("i", i)).first()
        found += row is not None
    return found


@query(args={"id": v.string(), "times": v.int64()})
async def same_get_repeatedly(ctx: Any, args: dict[str, Any]) -> int:
    """The same point read ``times`` times: one interval once overlaps are merged."""
    found = 0
    for _ in range(args["times"]):
        found += (await ctx.db.get(args["id"])) is not None
    return found


@mutation(args={})
async def first_row_id(ctx: Any, args: dict[str, Any]) -> Any:
    row = await ctx.db.query("rows").first()
    return None if row is None else row["_id"]


@mutation(args={"blob": v.bytes()})
async def take_blob(ctx: Any, args: dict[str, Any]) -> int:
    await _marker(ctx)
    return len(args["blob"])


@mutation(args={"blobs": v.array(v.bytes())})
async def take_blobs(ctx: Any, args: dict[str, Any]) -> int:
    await _marker(ctx)
    return sum(len(blob) for blob in args["blobs"])


@query(args={"count": v.int64(), "size": v.int64()})
async def return_blobs(ctx: Any, args: dict[str, Any]) -> list[bytes]:
    return [bytes([i % 256]) * args["size"] for i in range(args["count"])]


@mutation(args={"depth": v.int64()})
async def recurse(ctx: Any, args: dict[str, Any]) -> int:
    """Nest ``depth`` mutation calls below this one; returns how deep it got."""
    await ctx.db.insert("markers", {"at": float(args["depth"])})
    if args["depth"] == 0:
        return 0
    below = await ctx.run_mutation(internal.s10_limits.recurse_inner, {"depth": args["depth"] - 1})
    return int(below) + 1


@internal_mutation(args={"depth": v.int64()})
async def recurse_inner(ctx: Any, args: dict[str, Any]) -> int:
    if args["depth"] == 0:
        return 0
    below = await ctx.run_mutation(internal.s10_limits.recurse_inner, {"depth": args["depth"] - 1})
    return int(below) + 1


@query(args={})
async def markers(ctx: Any, args: dict[str, Any]) -> int:
    return len(await ctx.db.query("markers").collect())
