"""What ``take`` and ``paginate`` accept: counts, page requests, and their validator.

Convex functions are JavaScript, where every number is a double: a count that
arrives through ``v.number()`` is ``3.0`` here, and Convex takes it as 3. So a
count is any whole, non-negative number (``int`` or integral ``float``); ``2.5``,
NaN, ±inf, negatives and booleans are mistakes and say so, naming the method.

``pagination_opts_validator`` is the ``args`` validator of the usual paginated
query (``args={"paginationOpts": pagination_opts_validator}``), the same shape
as Convex's ``paginationOptsValidator``; :func:`page_request` reads what such a
query passes on to ``paginate`` (§2.4).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from convex_sim.errors import InvalidQueryError, short_repr
from convex_sim.validators import ObjectValidator, v

pagination_opts_validator: Final[ObjectValidator] = v.object(
    {
        "numItems": v.number(),
        "cursor": v.union(v.string(), v.null()),
        "endCursor": v.optional(v.union(v.string(), v.null())),
        "id": v.optional(v.number()),
        "maximumRowsRead": v.optional(v.number()),
        "maximumBytesRead": v.optional(v.number()),
    }
)
"""``{numItems, cursor, endCursor?, id?, maximumRowsRead?, maximumBytesRead?}``, as in Convex."""

_UNSUPPORTED: Final = ("maximumRowsRead", "maximumBytesRead")


def check_count(value: Any, what: str) -> int:
    """``value`` as an ``int`` when it is a whole number ≥ 0, else a clear error naming ``what``."""
    kind = type(value)
    if kind is int and value >= 0:
        return int(value)
    if kind is float and math.isfinite(value) and value.is_integer() and value >= 0:
        return int(value)
    if kind is bool:
        reason = "a boolean is not a count"
    elif kind is float and math.isnan(value):
        reason = "NaN is not a count"
    elif kind is int or kind is float:
        reason = "it is negative" if value < 0 else "it is not a whole number"
    else:
        reason = f"it is a {kind.__name__}, not a number"
    raise InvalidQueryError(
        f"{what} must be a non-negative integer, got {short_repr(value)} ({reason}); "
        "a whole-number float such as 3.0 is fine"
    )


@dataclass(frozen=True)
class PageRequest:
    """One ``paginate`` call's options, checked."""

    num_items: int
    cursor: str | None
    end_cursor: str | None


def page_request(options: Any) -> PageRequest:
    """Check ``paginate``'s options; ``id`` is the client's own bookkeeping and is ignored."""
    if not isinstance(options, Mapping) or "numItems" not in options:
        raise InvalidQueryError(
            "paginate expects {'numItems': n, 'cursor': None or a continueCursor} "
            f"(args validated by pagination_opts_validator), got {short_repr(options)}"
        )
    num_items = check_count(options["numItems"], "paginate: numItems")
    cursor = _cursor_option(options, "cursor")
    end_cursor = _cursor_option(options, "endCursor")
    for name in _UNSUPPORTED:
        if options.get(name) is not None:
            check_count(options[name], f"paginate: {name}")
            raise InvalidQueryError(
                f"paginate: {name} is not emulated by convex_sim (pages end after numItems "
                "documents, or at endCursor); leave it out"
            )
    return PageRequest(num_items, cursor, end_cursor)


def _cursor_option(options: Mapping[str, Any], name: str) -> str | None:
    cursor = options.get(name)
    if cursor is None or isinstance(cursor, str):
        return cursor
    raise InvalidQueryError(
        f"paginate: {name} must be None or a cursor string from an earlier page, "
        f"got {short_repr(cursor)}"
    )
