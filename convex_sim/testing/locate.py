"""Import a test module by the name pytest gave it, wherever the replay runs.

A replay line names its machine as ``module:Class`` with the module's
``__name__`` under pytest, and pytest's names are not importable names. In
its default import mode pytest calls ``tests/test_machine.py`` (in a
directory without ``__init__.py``) plain ``test_machine`` and puts
``tests/`` on ``sys.path`` while the session lasts; in ``importlib`` mode the
name is relative to the rootdir (``tests.test_machine``). A later
``python -m convex_sim.testing replay`` has neither on its path, so the name
alone fails with ``No module named 'test_machine'``.

:func:`import_test_module` therefore looks under the rootdir for the file
pytest would have given that name and, finding it, sets up ``sys.path`` as
pytest did: the directory each ``conftest.py`` on the way down belongs to,
then the module's own base directory (so the module's own imports work as
they did under pytest too). A name no file under the rootdir answers to is
imported as it is (an installed package, say). The rootdir is found as pytest finds it in the usual
case: the nearest directory, from the current one up, holding a pytest or
project configuration file; failing that, the current directory.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

ROOT_MARKERS = ("pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg", "setup.py")
"""Files whose directory pytest would take for the rootdir."""
SKIPPED_DIRS = frozenset({"__pycache__", "node_modules", "build", "dist", "site-packages"})
"""Directories pytest does not collect from (besides hidden ones and virtualenvs)."""


def find_rootdir(start: Path | None = None) -> Path:
    """The nearest directory from ``start`` (the current one) up with a config file."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        if any((directory / marker).is_file() for marker in ROOT_MARKERS):
            return directory
    return here


def import_test_module(name: str, rootdir: Path | None = None) -> ModuleType:
    """Import ``name`` as pytest imported it (see the module doc)."""
    root = find_rootdir() if rootdir is None else rootdir.resolve()
    candidates = _candidates(name, root)
    if len(candidates) > 1:
        found = ", ".join(str(path.relative_to(root)) for _, path in candidates)
        raise ImportError(f"{name!r} could be any of {found} under {root}", name=name)
    if candidates:
        base, path = candidates[0]
        for directory in [*_conftest_bases(root, path.parent), base]:
            if str(directory) in sys.path:
                sys.path.remove(str(directory))
            sys.path.insert(0, str(directory))
        importlib.invalidate_caches()
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        if candidates or error.name is None or not _names_part_of(name, error.name):
            raise  # the module is there; something it imports is not
        relative = Path(*name.split(".")).with_suffix(".py")
        raise ModuleNotFoundError(
            f"No module named {name!r}: it is not importable, and no file under {root} is "
            f"named so by pytest (looked for .../{relative}); run the replay from the project "
            "pytest ran in, or give its directory with --rootdir",
            name=name,
        ) from None


def module_file(name: str, rootdir: Path | None = None) -> Path | None:
    """The file :func:`import_test_module` would import for ``name``, without importing it."""
    candidates = _candidates(name, find_rootdir() if rootdir is None else rootdir.resolve())
    if candidates:
        return candidates[0][1] if len(candidates) == 1 else None
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None or not Path(spec.origin).is_file():
        return None
    return Path(spec.origin).resolve()


def _names_part_of(name: str, missing: str) -> bool:
    return name == missing or name.startswith(missing + ".")


def _candidates(name: str, root: Path) -> list[tuple[Path, Path]]:
    """``(base directory, file)`` for each file under ``root`` that pytest could call ``name``.

    The base is where the dotted name starts; pytest makes it either the first
    directory up without ``__init__.py`` (its default mode) or the rootdir
    (``importlib`` mode), so other bases are not candidates.
    """
    parts = tuple(name.split("."))
    found = []
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if _collectable(Path(directory) / d))
        here = Path(directory)
        for path in _module_files(here, parts[-1], files, subdirs):
            relative = path.relative_to(root).parts
            inner = relative[:-1] if path.name == "__init__.py" else relative
            dotted = (*inner[:-1], Path(inner[-1]).stem)
            if dotted[-len(parts) :] != parts:
                continue
            base = root.joinpath(*dotted[: -len(parts)])
            if base == root or not (base / "__init__.py").is_file():
                found.append((base, path))
    return found


def _module_files(here: Path, last: str, files: list[str], subdirs: list[str]) -> list[Path]:
    paths = [here / f"{last}.py"] if f"{last}.py" in files else []
    if last in subdirs and (here / last / "__init__.py").is_file():
        paths.append(here / last / "__init__.py")
    return paths


def _collectable(directory: Path) -> bool:
    name = directory.name
    if name.startswith(".") or name in SKIPPED_DIRS or name.endswith((".egg", ".egg-info")):
        return False
    return not (directory / "pyvenv.cfg").is_file()


def _conftest_bases(root: Path, directory: Path) -> list[Path]:
    """Where pytest's default import mode put each conftest.py from ``root`` down on the path."""
    chain = [directory, *directory.parents]
    chain = chain[: chain.index(root) + 1] if root in chain else [directory]
    bases = []
    for folder in reversed(chain):
        if (folder / "conftest.py").is_file():
            base = folder
            while (base / "__init__.py").is_file() and base.parent != base:
                base = base.parent
            if base not in bases:
                bases.append(base)
    return bases
