"""Function definitions: the ``query``/``mutation``/``action`` decorators and registries.

Implements convex-semantics.md §5.1 (function kinds) and §5.5 (validation and
visibility). A decorated handler becomes a :class:`FunctionDefinition`; an app
or component lists the Python modules that hold its functions, and a
:class:`Registry` built from those modules is the single source of truth for
what exists, under which path (``"module:function"``), and with which
validators.

The three spellings all work::

    @mutation
    async def bump(ctx, args): ...

    @mutation(args={"value": v.number()}, returns=v.null())
    async def add_event(ctx, args): ...

    add_event = mutation(args={"value": v.number()}, handler=_add_event)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import PurePath
from types import ModuleType
from typing import Any, Literal, overload

from convex_sim.errors import ConvexSimError
from convex_sim.validators import Validator, as_validator

FunctionType = Literal["query", "mutation", "action"]
Visibility = Literal["public", "internal"]
Handler = Callable[[Any, dict[str, Any]], Awaitable[Any]]


class FunctionNotFoundError(ConvexSimError, LookupError):
    """A reference names no function (or none the caller may call)."""


class FunctionDefinition:
    """A registered function: its kind, visibility, validators and handler."""

    __slots__ = (
        "__name__",
        "args",
        "docstring",
        "function_type",
        "handler",
        "returns",
        "visibility",
    )

    def __init__(
        self,
        function_type: FunctionType,
        visibility: Visibility,
        handler: Handler,
        args: Validator | None,
        returns: Validator | None,
    ) -> None:
        if not callable(handler):
            raise TypeError(f"{function_type} handler must be an async function, got {handler!r}")
        self.function_type: FunctionType = function_type
        self.visibility: Visibility = visibility
        self.handler = handler
        self.args = args
        self.returns = returns
        self.__name__ = getattr(handler, "__name__", "handler")
        self.docstring: str | None = getattr(handler, "__doc__", None)

    @property
    def is_internal(self) -> bool:
        return self.visibility == "internal"

    def __repr__(self) -> str:
        prefix = "internal_" if self.is_internal else ""
        return f"<{prefix}{self.function_type} {self.__name__}>"


def _args_validator(args: Any) -> Validator | None:
    if args is None:
        return None
    return as_validator(args)


class _Decorator:
    """``query``, ``mutation``, ... : usable bare, with options, or with ``handler=``."""

    def __init__(self, function_type: FunctionType, visibility: Visibility) -> None:
        self._function_type: FunctionType = function_type
        self._visibility: Visibility = visibility
        prefix = "internal_" if visibility == "internal" else ""
        self.__name__ = f"{prefix}{function_type}"

    @overload
    def __call__(self, function: Handler, /) -> FunctionDefinition: ...

    @overload
    def __call__(
        self,
        /,
        *,
        args: Mapping[str, Validator] | Validator | None = None,
        returns: Validator | None = None,
        handler: Handler,
    ) -> FunctionDefinition: ...

    @overload
    def __call__(
        self,
        /,
        *,
        args: Mapping[str, Validator] | Validator | None = None,
        returns: Validator | None = None,
    ) -> Callable[[Handler], FunctionDefinition]: ...

    def __call__(
        self,
        function: Handler | None = None,
        /,
        *,
        args: Mapping[str, Validator] | Validator | None = None,
        returns: Validator | None = None,
        handler: Handler | None = None,
    ) -> Any:
        args_validator = _args_validator(args)
        returns_validator = None if returns is None else as_validator(returns)

        def define(target: Handler) -> FunctionDefinition:
            return FunctionDefinition(
                self._function_type, self._visibility, target, args_validator, returns_validator
            )

        target = function or handler
        return define if target is None else define(target)


query = _Decorator("query", "public")
mutation = _Decorator("mutation", "public")
action = _Decorator("action", "public")
internal_query = _Decorator("query", "internal")
internal_mutation = _Decorator("mutation", "internal")
internal_action = _Decorator("action", "internal")


def module_short_name(module: ModuleType) -> str:
    """``example.example`` → ``example``: the file name, as Convex paths use it.

    A file run as a script (``python app.py``, ``python -m pkg.app``) is named
    ``__main__``, which no reference a user writes would say: it is named
    after its file instead, as ``app``, so ``internal.app.fn`` and
    ``"app:fn"`` find it. A ``__main__`` without a file (exec, a prompt)
    keeps the name.
    """
    name = module.__name__
    if name == "__main__":
        spec = getattr(module, "__spec__", None)
        file = getattr(module, "__file__", None)
        if spec is not None and spec.name and spec.name != "__main__":
            name = spec.name
        elif isinstance(file, str) and file:
            name = PurePath(file).stem
    return name.rsplit(".", 1)[-1]


class Registry:
    """Every function of one app or component, by path and by identity."""

    def __init__(self, modules: Iterable[ModuleType] = ()) -> None:
        self.functions: dict[str, FunctionDefinition] = {}
        self._paths: dict[int, str] = {}
        for module in modules:
            self.add_module(module)

    def add_module(self, module: ModuleType) -> None:
        if not isinstance(module, ModuleType):
            raise TypeError(
                f"modules must be Python modules (import them and pass the module), got {module!r}"
            )
        short = module_short_name(module)
        for attribute, value in vars(module).items():
            if isinstance(value, FunctionDefinition):
                path = f"{short}:{attribute}"
                if path in self.functions and self.functions[path] is not value:
                    raise ConvexSimError(f"two functions are registered as {path!r}")
                self.functions[path] = value
                self._paths.setdefault(id(value), path)

    def get(self, path: str) -> FunctionDefinition | None:
        return self.functions.get(path)

    def path_of(self, definition: FunctionDefinition) -> str | None:
        return self._paths.get(id(definition))

    def __contains__(self, definition: object) -> bool:
        return isinstance(definition, FunctionDefinition) and id(definition) in self._paths
