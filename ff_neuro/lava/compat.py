"""Make lava-nc 0.10 importable on Python 3.11 without touching site-packages.

lava-nc 0.10 declares Python < 3.11. Its only 3.11 incompatibility is in
``lava/magma/compiler/var_model.py``: an instance of the non-frozen dataclass ``ByteEncoder`` is
used as a field default, which 3.11's ``dataclasses`` rejects ("mutable default"). A frozen
dataclass is hashable and therefore allowed, so :func:`apply` installs a meta-path finder that
loads that one module from its own source with ``@dataclass(frozen=True)`` on ``ByteEncoder``
(only on Python >= 3.11).

A second patch, on every Python: ``lava/magma/runtime/message_infrastructure/multiprocessing.py``
calls ``multiprocessing.set_start_method('fork')`` at import, which raises "context has already
been set" when anything in the process touched the start method before lava was imported. The
patched module sets 'fork' only when it is not already the start method.

Idempotent (one finder), a no-op for a module whose source no longer contains the pattern (a
fixed lava release). No bytecode is written.
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
MP_TARGET = "lava.magma.runtime.message_infrastructure.multiprocessing"
MP_PATTERN = "    mp.set_start_method('fork')"
MP_FIXED = (
    "    if mp.get_start_method(allow_none=True) != 'fork':\n"
    "        mp.set_start_method('fork', force=True)"
)


def patches() -> dict[str, tuple[str, str]]:
    """Module name → (pattern, replacement) of the patches needed on this Python."""
    out = {MP_TARGET: (MP_PATTERN, MP_FIXED)}
    if sys.version_info >= (3, 11):
        out[TARGET] = (PATTERN, FIXED)
    return out


class LavaNotInstalledError(FFNeuroError):
    pass


class _PatchedSourceLoader(importlib.abc.Loader):
    """Executes a module from its source with one text replacement."""

    def __init__(self, path: str, source: str):
        self.path, self.source = path, source

    def create_module(self, spec):
        return None  # default module creation

    def exec_module(self, module) -> None:
        exec(compile(self.source, self.path, "exec", dont_inherit=True), module.__dict__)


class VarModelFinder(importlib.abc.MetaPathFinder):
    """Meta-path finder that serves the modules of :func:`patches` from their patched source."""

    def find_spec(self, fullname, path=None, target=None):
        patch = patches().get(fullname)
        if patch is None:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or not spec.origin or not spec.origin.endswith(".py"):
            return None
        with open(spec.origin, encoding="utf-8") as f:
            source = f.read()
        if patch[0] not in source:
            return None  # already fixed upstream: let the normal loader handle it
        return importlib.util.spec_from_file_location(
            fullname, spec.origin, loader=_PatchedSourceLoader(spec.origin, source.replace(*patch))
        )


def apply() -> bool:
    """Install the finder (once). Returns True when it is (already) installed."""
    if not any(isinstance(f, VarModelFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, VarModelFinder())
    return True


def require_lava() -> None:
    """Raise :class:`LavaNotInstalledError` unless lava-nc can be imported; apply the 3.11 fix."""
    try:
        found = (
            importlib.util.find_spec("lava") is not None
            and importlib.util.find_spec("lava.magma") is not None
        )
    except (ImportError, ValueError):  # a parent that fails to import, or a module set to None
        found = False
    if not found:
        raise LavaNotInstalledError(
            "lava-nc is not installed: install the extra with "
            "`pip install 'ff_neuro[lava]'` (or `make install`)"
        )
    apply()
