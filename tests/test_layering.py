"""The stages depend one way: a module of ``ff_neuro/<stage>`` imports no later stage.

Order (README, "Layout"): data → ff → spiking → hardware → lava → onchip → analysis → pipeline → sweep
→ cli. The
top-level modules (config, checkpoint, io, errors, runtime) sit below every stage. Imports are read
with ``ast`` (module level and inside functions alike), so a lazy import is no way around it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "ff_neuro"
STAGES = [
    "data",
    "ff",
    "spiking",
    "hardware",
    "lava",
    "onchip",
    "analysis",
    "pipeline",
    "sweep",
    "cli",
]
BASE = {"config", "checkpoint", "io", "errors", "runtime"}
CORE = set(STAGES) - {"onchip"}  # on-chip learning (the lava extra) is optional in a checkout

# (module, imported stage): the exceptions, each for an optional extra. Running a netx export in Lava
# (``export --verify``) needs the ``lava`` extra (lava-nc, lava-dl); it reuses the Lava stage's
# fast ProcessModels, window counter and the 3.11 compatibility shim.
ALLOWED = {
    ("hardware/netx_lava.py", "lava"),
    ("hardware/verify.py", "lava"),
}


def stage_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def imported_modules(path: Path, text: str | None = None) -> set[str]:
    """Absolute ``ff_neuro.…`` names of everything ``path`` (or ``text`` as if it were there) imports."""
    pkg = path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1]  # the package it is in
    names = set()
    for node in ast.walk(ast.parse(path.read_text() if text is None else text, str(path))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names if a.name.startswith("ff_neuro")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(pkg[: len(pkg) - node.level + 1])
                mod = ".".join(base + ([node.module] if node.module else []))
                names |= {mod} if node.module else {f"{mod}.{a.name}" for a in node.names}
            elif node.module and node.module.startswith("ff_neuro"):
                names.add(node.module)
    return names


def later_imports(path: Path, text: str | None = None) -> list[str]:
    rank = STAGES.index(stage_of(path))
    bad = []
    for name in sorted(imported_modules(path, text)):
        parts = name.split(".")
        target = parts[1] if len(parts) > 1 else None
        if target in STAGES and STAGES.index(target) > rank:
            if (str(path.relative_to(PACKAGE)), target) not in ALLOWED:
                bad.append(name)
    return bad


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if stage_of(p) in STAGES)


def test_every_module_has_a_place():
    """Each subpackage and top-level module is a stage or a base module: a new one must be placed."""
    places = {stage_of(p) for p in PACKAGE.rglob("*.py")} - {"__init__", "__main__"}
    assert places <= set(STAGES) | BASE, places - set(STAGES) - BASE
    assert CORE <= places


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_stage_imports_a_later_stage(path):
    assert later_imports(path) == [], f"{path.relative_to(PACKAGE)} imports a later stage"


def test_base_modules_import_no_stage():
    for name in BASE:
        mods = imported_modules(PACKAGE / f"{name}.py")
        assert not {m.split(".")[1] for m in mods if len(m.split(".")) > 1} & set(STAGES), name


def test_the_check_sees_lazy_relative_and_absolute_imports():
    """The checker itself: later stages imported inside a function, relatively or absolutely, are found."""
    probe = PACKAGE / "ff" / "probe.py"
    text = (
        "def f():\n    from ..spiking.model import SpikingModel\n    from .. import pipeline\n"
        "    import ff_neuro.lava.deploy\n    from .run import open_run\n"
    )
    assert later_imports(probe, text) == [
        "ff_neuro.lava.deploy",
        "ff_neuro.pipeline",
        "ff_neuro.spiking.model",
    ]


def test_allowed_exceptions_are_still_needed():
    """An exception that no module needs any more is removed from ALLOWED."""
    for rel, target in ALLOWED:
        mods = imported_modules(PACKAGE / rel)
        assert any(m.split(".")[1:2] == [target] for m in mods), (rel, target)
