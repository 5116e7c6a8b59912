"""Function references: ``api.*``, ``internal.*``, ``components.*``, path strings and handles.

Implements convex-semantics.md §5.6 (function handles) and §7.2 (an app reaches
a component only through ``components.<name>``). References are lazy: nothing
is looked up until a call, and then against the namespace of the caller, so
``internal.loop.loop`` written in a component's module means *that
component's* loop.

Handles are ``function://<namespace>#<module:function>`` with an empty
namespace for the app: ``function://#example:get_batch``. A handle may name an
internal function of another namespace; that is what handles are for (the
batch worker runs the app's work query through one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from convex_sim.errors import ConvexSimError
from convex_sim.functions import FunctionDefinition

HANDLE_PREFIX = "function://"


class InvalidReferenceError(ConvexSimError, ValueError):
    """Something passed as a function reference is not one."""


@dataclass(frozen=True)
class FunctionReference:
    """A resolved-at-call-time name of a function.

    ``component`` is a child mount name (``components.<component>...``);
    ``namespace`` is set only for handles, which name their namespace outright.
    ``expected`` is the visibility the spelling promised (``api`` → public).
    """

    path: str
    component: str | None = None
    namespace: str | None = None
    expected: Literal["public", "internal"] | None = None

    def __str__(self) -> str:
        if self.namespace is not None:
            return f"{HANDLE_PREFIX}{self.namespace}#{self.path}"
        if self.component is not None:
            return f"components.{self.component}.{self.path}"
        return self.path


class _Proxy:
    """``api.example.add_event``: each attribute extends the path; nothing is checked yet."""

    __slots__ = ("_component", "_expected", "_parts", "_root")

    def __init__(
        self,
        root: str,
        parts: tuple[str, ...] = (),
        *,
        expected: Literal["public", "internal"] | None,
        component: str | None = None,
    ) -> None:
        self._root = root
        self._parts = parts
        self._expected = expected
        self._component = component

    def __getattr__(self, name: str) -> _Proxy:
        if name.startswith("__"):
            raise AttributeError(name)
        if self._root == "components" and self._component is None:
            return _Proxy(self._root, (), expected=None, component=name)
        return _Proxy(
            self._root,
            (*self._parts, name),
            expected=self._expected,
            component=self._component,
        )

    def __repr__(self) -> str:
        dotted = ".".join(
            [self._root, *([self._component] if self._component else []), *self._parts]
        )
        return f"<function reference {dotted}>"

    def reference(self) -> FunctionReference:
        if len(self._parts) < 2:
            raise InvalidReferenceError(
                f"{self!r} is not a function: write {self._root}.<module>.<function>"
            )
        path = "/".join(self._parts[:-1]) + ":" + self._parts[-1]
        return FunctionReference(path, component=self._component, expected=self._expected)


api: Any = _Proxy("api", expected="public")
"""Public functions of the calling app or component: ``api.example.add_event``."""
internal: Any = _Proxy("internal", expected="internal")
"""Internal functions of the calling app or component: ``internal.example.get_batch``."""
components: Any = _Proxy("components", expected=None)
"""Public functions of a mounted component: ``components.batchWorker.lib.status``."""

Reference = FunctionDefinition | FunctionReference | str | Any


def as_reference(value: Any) -> FunctionDefinition | FunctionReference:
    """Normalise a reference spelling; definitions stay definitions (resolved by identity)."""
    if isinstance(value, FunctionDefinition | FunctionReference):
        return value
    if isinstance(value, _Proxy):
        return value.reference()
    if isinstance(value, str):
        return parse_reference_string(value)
    raise InvalidReferenceError(
        f"{value!r} is not a function reference: pass a decorated function, api./internal./"
        "components. reference, a 'module:function' string or a function handle"
    )


def parse_reference_string(text: str) -> FunctionReference:
    if text.startswith(HANDLE_PREFIX):
        namespace, separator, path = text[len(HANDLE_PREFIX) :].partition("#")
        if not separator or ":" not in path:
            raise InvalidReferenceError(f"{text!r} is not a function handle")
        return FunctionReference(path, namespace=namespace)
    module, separator, name = text.partition(":")
    if not separator or not module or not name:
        raise InvalidReferenceError(
            f"{text!r} is not a function path: write 'module:function' (e.g. 'example:add_event')"
        )
    if module.endswith(".js"):
        module = module[:-3]
    return FunctionReference(f"{module}:{name}")


def handle_for(namespace: str, path: str) -> str:
    return f"{HANDLE_PREFIX}{namespace}#{path}"
