"""Resolving function references to the function they name (convex-semantics.md §5.5, §5.6, §7.2).

A reference is resolved against the namespace of its *caller*: ``internal.loop.loop``
written in a component's module means that component's loop; an app reaches a
component's public functions only through ``components.<name>``; a handle
names one function of one namespace, internal ones included; and a client
reaches only the app's public functions.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from convex_sim import lookup_hints as hints
from convex_sim.components import Namespace
from convex_sim.functions import FunctionDefinition, FunctionNotFoundError
from convex_sim.references import FunctionReference, as_reference, handle_for, handle_id


@dataclass(frozen=True)
class Target:
    """A resolved reference: the namespace, path and definition it names."""

    namespace: Namespace
    path: str
    definition: FunctionDefinition

    @functools.cached_property
    def label(self) -> str:
        """``module:function``, prefixed by the component's mount name outside the app."""
        return self.path if not self.namespace.path else f"{self.namespace.path}/{self.path}"


class Resolver:
    """Turns references into targets for one deployment's namespaces.

    Namespaces never change once the simulator starts, so a hashable
    reference is resolved once per caller and remembered; failures are not.
    """

    def __init__(self, namespaces: dict[str, Namespace]) -> None:
        self.namespaces = namespaces
        self._handles = {
            handle_id(namespace.path, path): (namespace.path, path)
            for namespace in namespaces.values()
            for path in namespace.registry.functions
        }
        self._resolved: dict[tuple[Any, str, bool], Target] = {}

    def resolve(self, reference: Any, caller: Namespace, *, client: bool = False) -> Target:
        """The function ``reference`` names, as seen from ``caller``.

        ``client`` calls reach only the app's public functions (§5.5).
        """
        key = (reference, caller.path, client)
        try:
            target = self._resolved.get(key)
        except TypeError:  # an unhashable reference: resolve it every time
            return self._resolve_uncached(reference, caller, client=client)
        if target is None:
            target = self._resolve_uncached(reference, caller, client=client)
            self._resolved[key] = target
        return target

    def handle(self, reference: Any, caller: Namespace) -> str:
        """The ``function://`` handle of the function ``reference`` names from ``caller``."""
        target = self.resolve(reference, caller)
        return handle_for(target.namespace.path, target.path)

    def _resolve_uncached(self, reference: Any, caller: Namespace, *, client: bool) -> Target:
        ref = as_reference(reference)
        if isinstance(ref, FunctionDefinition):
            target = self._resolve_definition(ref, caller, client=client)
        elif client and ref.handle is not None:
            raise FunctionNotFoundError(
                f"{ref} is a function handle, and clients call the app's public functions by "
                "path or reference only: handles are for server code (ctx.run_query, "
                "ctx.run_mutation, ctx.scheduler). From a test, call it through one of the "
                "app's functions, or run it with sim.run_function(handle)."
            )
        else:
            target = self._resolve_reference(ref, caller, client=client)
        if client and target.definition.is_internal:
            raise hints.not_found(
                f"Could not find public function for '{target.path}'.",
                [hints.internal_for_client(target.label)],
            )
        return target

    def _resolve_definition(
        self, definition: FunctionDefinition, caller: Namespace, *, client: bool
    ) -> Target:
        path = caller.registry.path_of(definition)
        if path is not None:
            return Target(caller, path, definition)
        if not client:
            for child in caller.children.values():
                child_path = child.registry.path_of(definition)
                if child_path is not None and not definition.is_internal:
                    return Target(child, child_path, definition)
        raise hints.not_found(
            f"{definition!r} is not a function of {caller.label}"
            + ("" if client else " (nor a public function of a component it mounts)"),
            hints.definition_elsewhere(definition, caller, self.namespaces, client=client),
        )

    def _resolve_reference(
        self, ref: FunctionReference, caller: Namespace, *, client: bool
    ) -> Target:
        if ref.handle is not None:
            found = self._handles.get(ref.handle)
            if found is None:
                raise hints.not_found(
                    f"{ref} is not a handle of any function here",
                    ["handles come from create_function_handle or sim.function_handle"],
                )
            namespace = self.namespaces[found[0]]
            ref = FunctionReference(found[1], handle=ref.handle)
        elif ref.component is not None:
            child = caller.children.get(ref.component)
            if child is None:
                raise hints.not_found(
                    f"{caller.label} mounts no component named {ref.component!r}",
                    [hints.mounted(caller, ref.component)],
                )
            if client:
                raise hints.not_found(
                    f"Could not find public function for '{ref}'.",
                    [hints.component_function(child, ref.path, client=True)],
                )
            namespace = child
        else:
            namespace = caller
        definition = namespace.registry.get(ref.path)
        if definition is None:
            raise hints.not_found(
                f"Could not find function for '{ref.path}' in {namespace.label}",
                [
                    *hints.path_elsewhere(ref.path, namespace, self.namespaces, client=client),
                    hints.nearby(ref.path, namespace),
                    hints.main_module(namespace),
                ],
            )
        if (ref.component is not None or ref.expected == "public") and definition.is_internal:
            raise hints.not_found(
                f"Could not find public function for '{ref}'.",
                [
                    hints.internal_reached_as_public(
                        namespace, ref.path, client=client, from_outside=ref.component is not None
                    )
                ],
            )
        return Target(namespace, ref.path, definition)
