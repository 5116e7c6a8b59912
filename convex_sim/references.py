"""Function references: ``api.*``, ``internal.*``, ``components.*``, path strings and handles.

Implements convex-semantics.md §5.6 (function handles) and §7.2 (an app reaches
a component only through ``components.<name>``). References are lazy: nothing
is looked up until a call, and then against the namespace of the caller, so
``internal.loop.loop`` written in a component's module means *that
component's* loop.

Handles are ``function://<id>#<module:function>`` (§5.6): the id is an opaque,
deterministic name for one function of one namespace, and only the id is used
to resolve; the path after ``#`` is a label for people. A handle may name an
internal function of another namespace; that is what handles are for (the
batch worker runs the app's work query through one).
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from typing import Any, Literal

from convex_sim.errors import ConvexSimError
from convex_sim.functions import FunctionDefinition
from convex_sim.values import ID_RANDOM_BYTES, make_id_string

HANDLE_PREFIX = "function://"


class InvalidReferenceError(ConvexSimError, ValueError):
    """Something passed as a function reference is not one."""


@dataclass(frozen=True)
class FunctionReference:
    """A resolved-at-call-time name of a function.

    ``component`` is a child mount name (``components.<component>...``);
    ``handle`` is set only for handles: the opaque id that alone resolves them.
    ``expected`` is the visibility the spelling promised (``api`` → public).
    """

    path: str
    component: str | None = None
    handle: str | None = None
    expected: Literal["public", "internal"] | None = None

    def __str__(self) -> str:
        if self.handle is not None:
            return f"{HANDLE_PREFIX}{self.handle}#{self.path}"
        if self.component is not None:
            return f"components.{self.component}.{self.path}"
        return self.path


class _Proxy:
    """``api.example.add_event``: each attribute extends the path; nothing is checked yet."""

    __slots__ = ("__dict__", "_component", "_expected", "_parts", "_reference", "_root")

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
        # Spelled-out references are looked up on every call, so each proxy keeps
        # its reference, and its children in its __dict__: the same spelling is the
        # same object, and found again without calling __getattr__.
        self._reference: FunctionReference | None = None

    def __getattr__(self, name: str) -> _Proxy:
        # Only names the class does not define get here, so a child kept in the
        # instance's __dict__ never hides a method or slot.
        if name.startswith("__"):
            raise AttributeError(name)
        if self._root == "components" and self._component is None:
            child = _Proxy(self._root, (), expected=None, component=name)
        else:
            child = _Proxy(
                self._root,
                (*self._parts, name),
                expected=self._expected,
                component=self._component,
            )
        self.__dict__[name] = child
        return child

    def __repr__(self) -> str:
        dotted = ".".join(
            [self._root, *([self._component] if self._component else []), *self._parts]
        )
        return f"<function reference {dotted}>"

    def reference(self) -> FunctionReference:
        if self._reference is None:
            if len(self._parts) < 2:
                raise InvalidReferenceError(
                    f"{self!r} is not a function: write {self._root}.<module>.<function>"
                )
            path = "/".join(self._parts[:-1]) + ":" + self._parts[-1]
            self._reference = FunctionReference(
                path, component=self._component, expected=self._expected
            )
        return self._reference


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
        handle, separator, path = text[len(HANDLE_PREFIX) :].partition("#")
        if not separator or not handle:
            raise InvalidReferenceError(f"{text!r} is not a function handle")
        return FunctionReference(path, handle=handle)
    module, separator, name = text.partition(":")
    if not separator or not module or not name:
        raise InvalidReferenceError(
            f"{text!r} is not a function path: write 'module:function' (e.g. 'example:add_event')"
        )
    if module.endswith(".js"):
        module = module[:-3]
    return FunctionReference(f"{module}:{name}")


@functools.cache
def handle_id(namespace: str, path: str) -> str:
    """The opaque id of a function's handle: the same function always gets the same id."""
    digest = hashlib.sha256(f"{namespace}\0{path}".encode()).digest()
    return make_id_string(0, digest[:ID_RANDOM_BYTES])


def handle_for(namespace: str, path: str) -> str:
    return f"{HANDLE_PREFIX}{handle_id(namespace, path)}#{path}"
