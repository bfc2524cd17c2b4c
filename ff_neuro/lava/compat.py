"""Make lava-nc 0.10 importable on Python 3.11 without touching site-packages.

lava-nc 0.10 declares Python < 3.11. Its only 3.11 incompatibility is in
``lava/magma/compiler/var_model.py``: an instance of the non-frozen dataclass ``ByteEncoder`` is
used as a field default, which 3.11's ``dataclasses`` rejects ("mutable default"). A frozen
dataclass is hashable and therefore allowed, so :func:`apply` installs a meta-path finder that
loads that one module from its own source with ``@dataclass(frozen=True)`` on ``ByteEncoder``.

The fix is applied only on Python >= 3.11, only once (idempotent), and is a no-op when the source
no longer contains the offending pattern (a fixed lava release). No bytecode is written.
"""
from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys

from ..errors import FFNeuroError

TARGET = "lava.magma.compiler.var_model"
PATTERN = "@dataclass\nclass ByteEncoder:"
FIXED = "@dataclass(frozen=True)\nclass ByteEncoder:"


class LavaNotInstalledError(FFNeuroError):
    pass


class _PatchedSourceLoader(importlib.abc.Loader):
    """Executes a module from its source after replacing ``PATTERN`` with ``FIXED``."""

    def __init__(self, path: str, source: str):
        self.path, self.source = path, source

    def create_module(self, spec):
        return None  # default module creation

    def exec_module(self, module) -> None:
        code = compile(self.source.replace(PATTERN, FIXED), self.path, "exec", dont_inherit=True)
        exec(code, module.__dict__)


class VarModelFinder(importlib.abc.MetaPathFinder):
    """Meta-path finder that serves ``lava.magma.compiler.var_model`` with a frozen ByteEncoder."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != TARGET:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or not spec.origin or not spec.origin.endswith(".py"):
            return None
        with open(spec.origin, encoding="utf-8") as f:
            source = f.read()
        if PATTERN not in source:
            return None  # already fixed upstream: let the normal loader handle it
        return importlib.util.spec_from_file_location(fullname, spec.origin,
                                                      loader=_PatchedSourceLoader(spec.origin, source))


def needed() -> bool:
    return sys.version_info >= (3, 11)


def apply() -> bool:
    """Install the finder (once). Returns True when it is installed."""
    if not needed():
        return False
    if not any(isinstance(f, VarModelFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, VarModelFinder())
    return True


def require_lava() -> None:
    """Raise :class:`LavaNotInstalledError` unless lava-nc can be imported; apply the 3.11 fix."""
    try:
        found = importlib.util.find_spec("lava") is not None and importlib.util.find_spec("lava.magma") is not None
    except (ImportError, ValueError):  # a parent that fails to import, or a module set to None
        found = False
    if not found:
        raise LavaNotInstalledError("lava-nc is not installed: install the extra with "
                                    "`pip install 'ff_neuro[lava]'` (or `make install`)")
    apply()
