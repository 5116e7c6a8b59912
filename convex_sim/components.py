"""Apps and components: ``define_app``, ``define_component``, ``app.use``.

Implements convex-semantics.md §7. Each mounted component becomes a
*namespace*: its own tables (the store numbers tables per namespace), its own
``_scheduled_functions``, its own function registry and its own env vars. The
app is the namespace ``""``; a component mounted as ``name="batchWorker"`` is
the namespace ``"batchWorker"``. Definitions are plain data; the simulator
turns them into live namespaces.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType, ModuleType

from convex_sim.errors import ConvexSimError
from convex_sim.functions import Registry
from convex_sim.schema import Schema, check_identifier

ALWAYS_VISIBLE_ENV = ("CONVEX_CLOUD_URL", "CONVEX_SITE_URL")
DEFAULT_ENV = {
    "CONVEX_CLOUD_URL": "https://convex-sim.invalid",
    "CONVEX_SITE_URL": "https://convex-sim.invalid",
}


class ComponentError(ConvexSimError, ValueError):
    """A component is defined or mounted incorrectly."""


@dataclass(frozen=True)
class ComponentDefinition:
    """What ``define_component`` returns: a reusable, unmounted component."""

    name: str
    schema: Schema | None
    modules: tuple[ModuleType, ...]
    env: tuple[str, ...]
    constants: Mapping[str, object] = field(default_factory=dict)
    """Values fixed in the component's code, as a bundled release fixes its own:
    two definitions over the same modules may differ only here (its handlers
    read them as ``ctx.constants``). ``batch_worker.release`` is built on this."""


@dataclass(frozen=True)
class Mount:
    component: ComponentDefinition
    name: str
    env: dict[str, str]


@dataclass
class AppDefinition:
    """What ``define_app`` returns; mount components on it with :meth:`use`."""

    schema: Schema | None
    modules: tuple[ModuleType, ...]
    env: dict[str, str]
    mounts: dict[str, Mount] = field(default_factory=dict)

    def use(
        self,
        component: ComponentDefinition,
        *,
        name: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> str:
        """Mount ``component`` under ``name`` (default: its own name); returns the name."""
        if not isinstance(component, ComponentDefinition):
            raise ComponentError(
                f"app.use expects a define_component(...) result, got {component!r}"
            )
        mount_name = check_identifier(name or component.name, what="Component name")
        if mount_name in self.mounts:
            raise ComponentError(f"a component is already mounted as {mount_name!r}")
        given = dict(env or {})
        undeclared = sorted(set(given) - set(component.env))
        if undeclared:
            raise ComponentError(
                f"component {component.name!r} does not declare env vars {undeclared}; "
                f"it declares {list(component.env)}"
            )
        for key, value in given.items():
            if not isinstance(value, str):
                raise ComponentError(f"env var {key!r} must be a string, got {value!r}")
        self.mounts[mount_name] = Mount(component, mount_name, given)
        return mount_name


def define_component(
    name: str,
    *,
    schema: Schema | None = None,
    modules: Iterable[ModuleType] = (),
    env: Iterable[str] = (),
    constants: Mapping[str, object] | None = None,
) -> ComponentDefinition:
    """A component: its schema, the modules holding its functions, the env vars it
    reads, and the constants its code was built with (``ctx.constants``)."""
    check_identifier(name, what="Component name")
    modules = tuple(modules)
    Registry(modules)  # fail now, at definition, on a bad module list
    return ComponentDefinition(
        name, schema, modules, tuple(env), MappingProxyType(dict(constants or {}))
    )


def define_app(
    *,
    schema: Schema | None = None,
    modules: Iterable[ModuleType] = (),
    env: Mapping[str, str] | None = None,
) -> AppDefinition:
    """The app: its schema, the modules holding its functions, and its env vars."""
    modules = tuple(modules)
    Registry(modules)
    return AppDefinition(schema, modules, dict(env or {}))


@dataclass
class Namespace:
    """A live app or component: where its tables, functions and env vars are found."""

    path: str
    """``""`` for the app, the mount name for a component."""
    schema: Schema | None
    registry: Registry
    env: dict[str, str]
    children: dict[str, Namespace] = field(default_factory=dict)
    constants: Mapping[str, object] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.path or "app"


def build_namespaces(app: AppDefinition) -> dict[str, Namespace]:
    """Every namespace of a deployment, keyed by path."""
    root = Namespace("", app.schema, Registry(app.modules), {**DEFAULT_ENV, **app.env})
    namespaces = {"": root}
    for mount in app.mounts.values():
        env = {key: DEFAULT_ENV[key] for key in ALWAYS_VISIBLE_ENV}
        env.update(mount.env)
        child = Namespace(
            mount.name,
            mount.component.schema,
            Registry(mount.component.modules),
            env,
            constants=mount.component.constants,
        )
        root.children[mount.name] = child
        namespaces[mount.name] = child
    return namespaces
