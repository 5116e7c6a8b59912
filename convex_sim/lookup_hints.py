"""Why a function reference found nothing, said so that the user can act on it.

A failed lookup keeps the backend's own words as its message (``Could not find
public function for 'counter:secret'.``), so code that compares messages with
the real backend's keeps working. What the emulator knows beyond that goes
into notes (PEP 678), which tracebacks and pytest print under the message:
the closest registered paths, and the reason when it is one of the usual
ones: an internal function called by a client, a component's function
reached past ``components.<name>``, a module registered as ``__main__``, or a
module imported twice.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Final

from convex_sim.components import Namespace
from convex_sim.functions import FunctionDefinition, FunctionNotFoundError

_LISTED_AT_MOST: Final = 8
_CLIENT_CALLS: Final = "sim.query / sim.mutation / sim.action"


def not_found(message: str, notes: Iterable[str | None]) -> FunctionNotFoundError:
    """The error, with each known explanation attached as a note."""
    error = FunctionNotFoundError(message)
    for note in notes:
        if note:
            error.add_note(note)
    return error


def _function(namespace: Namespace, path: str) -> str:
    return path if not namespace.path else f"{namespace.path}/{path}"


def _components_spelling(namespace: Namespace, path: str) -> str:
    module, _, name = path.partition(":")
    return f"components.{namespace.path}.{module.replace('/', '.')}.{name}"


def nearby(path: str, namespace: Namespace) -> str | None:
    """ "Did you mean": the registered paths closest to ``path``, or all when they are few."""
    registered = sorted(namespace.registry.functions)
    if not registered:
        return f"{namespace.label} registers no functions: are its modules listed in modules=[...]?"
    module, _, name = path.partition(":")
    in_module = [p.partition(":")[2] for p in registered if p.partition(":")[0] == module]
    if in_module:  # the module is right: only the function names are worth comparing
        close = [f"{module}:{n}" for n in difflib.get_close_matches(name, in_module, n=3)]
    else:
        close = difflib.get_close_matches(path, registered, n=3)
    if close:
        return "Did you mean " + " or ".join(repr(p) for p in close) + "?"
    if len(registered) <= _LISTED_AT_MOST:
        return f"{namespace.label} registers: " + ", ".join(registered)
    return None


def main_module(namespace: Namespace) -> str | None:
    """Functions registered as ``__main__:...``: a module without a file to name it by."""
    if any(path.startswith("__main__:") for path in namespace.registry.functions):
        return (
            f"{namespace.label} has functions registered as '__main__:...': their module's "
            "__name__ is '__main__' and it has no file to take a name from (code run with "
            "exec or typed at a prompt); put them in a file and list that module"
        )
    return None


def internal_for_client(label: str) -> str:
    return (
        f"'{label}' is an internal function: clients ({_CLIENT_CALLS}) reach only the app's "
        "public functions. From a test, run it with sim.run_function(...), or call it from "
        "server code (ctx.run_query / ctx.run_mutation, sim.run)"
    )


def component_function(namespace: Namespace, path: str, *, client: bool) -> str:
    """A function of a mounted component, reached some other way than ``components.<name>``."""
    spelling = _components_spelling(namespace, path)
    how = (
        f"clients reach only the app's public functions: call it from an app function as "
        f"{spelling}, or run it with sim.run_function(..., component={namespace.path!r})"
        if client
        else f"call it from the app's server code as {spelling}"
    )
    return (
        f"'{path}' is a function of the component mounted as {namespace.path!r}: components "
        f"are mounted with app.use(...), not listed in modules=[...]; {how}"
    )


def owners(
    namespaces: Mapping[str, Namespace], definition: FunctionDefinition
) -> list[tuple[Namespace, str]]:
    """Every namespace that registers ``definition`` itself, with its path there."""
    found = []
    for namespace in namespaces.values():
        path = namespace.registry.path_of(definition)
        if path is not None:
            found.append((namespace, path))
    return found


def definition_elsewhere(
    definition: FunctionDefinition,
    caller: Namespace,
    namespaces: Mapping[str, Namespace],
    *,
    client: bool,
) -> list[str]:
    """Why ``definition`` is not reachable from ``caller``: where it is registered, if anywhere."""
    notes = []
    for namespace, path in owners(namespaces, definition):
        if namespace.path in caller.children:
            if definition.is_internal:
                notes.append(
                    f"'{path}' is an internal function of the component mounted as "
                    f"{namespace.path!r}: from outside, only its public functions are reachable"
                )
            else:
                notes.append(component_function(namespace, path, client=client))
        elif not namespace.path:
            notes.append(
                f"it is the app's function '{path}': a component reaches the app's functions "
                "only through handles the app passes it (create_function_handle)"
            )
        else:
            notes.append(
                f"it is a function of the component mounted as {namespace.path!r} "
                f"('{_function(namespace, path)}'), which {caller.label} does not mount"
            )
    if not notes:
        notes.append(_second_copy(definition, caller) or _unlisted(caller))
    return notes


def _unlisted(caller: Namespace) -> str:
    where = "define_app" if not caller.path else "define_component"
    return (
        f"no app or component registers it: list its module in {where}(modules=[...]) "
        "(a component's own modules go in define_component, and the component is mounted "
        "with app.use(...))"
    )


def _second_copy(definition: FunctionDefinition, caller: Namespace) -> str | None:
    """A registered function from the same source line: the module was imported twice."""
    code = getattr(definition.handler, "__code__", None)
    if code is None:
        return None
    for path, registered in caller.registry.functions.items():
        other = getattr(registered.handler, "__code__", None)
        if (
            other is not None
            and other.co_filename == code.co_filename
            and other.co_firstlineno == code.co_firstlineno
        ):
            return (
                f"{caller.label} registers another copy of this function as '{path}': its "
                "module was imported twice (for example run as a script and imported by "
                "name); pass the functions of the module the app was defined with"
            )
    return None


def path_elsewhere(
    path: str, caller: Namespace, namespaces: Mapping[str, Namespace], *, client: bool
) -> list[str]:
    """Why ``path`` is not found in ``caller``: another namespace that registers it, if any."""
    notes = []
    for namespace in namespaces.values():
        if namespace is caller or path not in namespace.registry.functions:
            continue
        if namespace.path in caller.children:
            notes.append(component_function(namespace, path, client=client))
        elif not namespace.path:
            notes.append(
                f"'{path}' is the app's function: a component reaches the app's functions "
                "only through handles the app passes it (create_function_handle)"
            )
    return notes


def internal_reached_as_public(
    namespace: Namespace, path: str, *, client: bool, from_outside: bool
) -> str:
    """``api.*`` (or, ``from_outside``, ``components.*``) spelled for an internal function."""
    if client:
        return internal_for_client(_function(namespace, path))
    if from_outside:
        return (
            f"'{path}' is an internal function of the component mounted as "
            f"{namespace.path!r}: from outside, only its public functions are reachable"
        )
    module, _, name = path.partition(":")
    return f"'{path}' is internal: reference it as internal.{module.replace('/', '.')}.{name}"


def mounted(caller: Namespace, wanted: str) -> str:
    """The mount names there are, the closest first."""
    names = sorted(caller.children)
    if not names:
        return f"{caller.label} mounts no components: mount one with app.use(component, name=...)"
    close = difflib.get_close_matches(wanted, names, n=1, cutoff=0.6)
    if close:
        return f"Did you mean {close[0]!r}? Mounted: {', '.join(names)}"
    return f"Mounted: {', '.join(names)}"
