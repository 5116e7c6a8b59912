"""What crosses a function boundary: arguments in, the return value out.

Implements convex-semantics.md §3 as it applies to calls: arguments must be
an object of Convex values accepted by the function's ``args`` validator (if
any), the return value must pass its ``returns`` validator, neither may be
larger than the arguments limit (§9), and only a mutation may return the
commit-timestamp placeholder (§4.8), which is resolved at its commit. Errors
name the function and say which side failed, as Convex's
``ArgumentValidationError`` / ``ReturnsValidationError`` do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from convex_sim.components import Namespace
from convex_sim.errors import ValidationError
from convex_sim.limits import MAX_FUNCTION_ARGS_BYTES, LimitExceededError
from convex_sim.resolution import Target
from convex_sim.store.base import Store
from convex_sim.values import (
    check_value,
    contains_commit_ts,
    copy_value,
    decode_id_string,
    value_size,
)


class Boundary:
    """Checks arguments and results of one deployment's functions."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._id_resolvers: dict[str, Callable[[str], str | None]] = {}

    def check_args(self, target: Target, args: Any) -> dict[str, Any]:
        """The arguments as the handler receives them: validated, and a copy."""
        args = {} if args is None else args
        if not isinstance(args, dict):
            raise ValidationError(
                "Function arguments must be an object.",
                path="",
                value=args,
                validator="v.object(...)",
                context=f"ArgumentValidationError in {target.label}",
            )
        validator = target.definition.args
        checked: dict[str, Any]
        if validator is None:
            check_value(args)
            checked = copy_value(args)
        else:
            # A validator only accepts Convex values, so it does check_value's job too.
            try:
                checked = validator.validate(args, resolve_id=self._resolve_id(target.namespace))
            except ValidationError as error:
                raise error.with_context(f"ArgumentValidationError in {target.label}") from None
        self._check_size(target, checked, "arguments")
        return checked

    def check_result(self, target: Target, result: Any) -> Any:
        """The return value as the caller receives it (validated when there is a validator)."""
        if target.definition.function_type != "mutation" and contains_commit_ts(result):
            raise ValidationError(
                "ctx.db.vars.commit_ts cannot be returned from a query or action; it only "
                "exists inside a mutation until its commit",
                path="",
                value=result,
                validator="(no commit timestamp)",
                context=f"ReturnsValidationError in {target.label}",
            )
        validator = target.definition.returns
        if validator is None:
            check_value(result)
        else:
            try:
                result = validator.validate(result, resolve_id=self._resolve_id(target.namespace))
            except ValidationError as error:
                raise error.with_context(f"ReturnsValidationError in {target.label}") from None
        self._check_size(target, result, "return value")
        return result

    def _check_size(self, target: Target, value: Any, what: str) -> None:
        size = value_size(value)
        if size > MAX_FUNCTION_ARGS_BYTES:
            raise LimitExceededError(
                "TooLarge" if what == "return value" else "ArgumentsTooLarge",
                f"the {what} of {target.label} is {size} bytes; the limit is "
                f"{MAX_FUNCTION_ARGS_BYTES}",
            )

    def _resolve_id(self, namespace: Namespace) -> Callable[[str], str | None]:
        """``v.id`` checks an id's table as seen from the function's own namespace."""
        cached = self._id_resolvers.get(namespace.path)
        if cached is None:
            cached = self._id_resolvers[namespace.path] = self._make_id_resolver(namespace)
        return cached

    def _make_id_resolver(self, namespace: Namespace) -> Callable[[str], str | None]:
        store = self._store

        def resolve(text: str) -> str | None:
            number = decode_id_string(text)
            info = None if number is None else store.table_info(number)
            if info is None or info.namespace != namespace.path:
                return None
            return info.name

        return resolve
