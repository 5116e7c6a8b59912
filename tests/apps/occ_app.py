"""An app whose one mutation runs a scripted list of reads and writes.

The serializability tests generate scripts, run them concurrently, and replay
the committed ones serially. Every write depends on what the script read
before it (``acc``), so a lost update or a stale read changes the data.
"""

from __future__ import annotations

from typing import Any

from convex_sim import define_app, define_schema, define_table, mutation, v

SCHEMA = define_schema(
    {
        "items": define_table({"k": v.int64(), "tag": v.string(), "val": v.int64()}).index(
            "by_k_tag", ["k", "tag"]
        ),
        "log": define_table({"txn": v.int64()}),
    }
)


def _shape(document: dict[str, Any] | None) -> list[Any] | None:
    return None if document is None else [document["k"], document["tag"], document["val"]]


@mutation(args={"count": v.int64()}, returns=v.array(v.id("items")))
async def seed(ctx: Any, args: dict[str, Any]) -> list[Any]:
    return [
        await ctx.db.insert("items", {"k": i % 3, "tag": f"seed{i}", "val": i})
        for i in range(args["count"])
    ]


@mutation(args={"txn": v.int64(), "ids": v.array(v.id("items")), "ops": v.array(v.any())})
async def run_script(ctx: Any, args: dict[str, Any]) -> list[Any]:
    """Run the script; return everything it read, in order."""
    reads: list[Any] = []
    acc = 0
    ids = args["ids"]
    for position, op in enumerate(args["ops"]):
        kind = op["op"]
        if kind == "get":
            document = await ctx.db.get(ids[op["i"]])
            reads.append(_shape(document))
            acc += 0 if document is None else document["val"]
        elif kind == "range":
            query = ctx.db.query("items").with_index(
                "by_k_tag", lambda q, op=op: q.gte("k", op["lo"]).lt("k", op["hi"])
            )
            query = query.order(op["order"])
            rows = await (query.collect() if op["take"] < 0 else query.take(op["take"]))
            reads.append([_shape(row) for row in rows])
            acc += sum(row["val"] for row in rows)
        elif kind == "insert":
            await ctx.db.insert(
                "items", {"k": op["k"], "tag": f"t{args['txn']}-{position}", "val": acc}
            )
        elif kind in ("patch", "delete"):
            document = await ctx.db.get(ids[op["i"]])
            reads.append(_shape(document))
            if document is not None:
                if kind == "patch":
                    await ctx.db.patch(document["_id"], {"val": acc + 1})
                else:
                    await ctx.db.delete(document["_id"])
    return reads


@mutation(args={})
async def snapshot(ctx: Any, args: dict[str, Any]) -> list[Any]:
    rows = await ctx.db.query("items").with_index("by_k_tag").collect()
    return [_shape(row) for row in rows]


def make_app() -> Any:
    import tests.apps.occ_app as module

    return define_app(schema=SCHEMA, modules=[module])
