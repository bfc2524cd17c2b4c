"""The Python 3.11 fix for lava-nc 0.10 and lava as an optional extra."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest.importorskip("lava.magma")


def test_apply_is_idempotent_and_fixes_byte_encoder():
    from ff_neuro.lava import compat

    compat.apply()
    compat.apply()
    finders = [f for f in sys.meta_path if isinstance(f, compat.VarModelFinder)]
    assert len(finders) == 1
    import lava.magma.compiler.var_model as vm

    assert vm.ByteEncoder() == vm.ByteEncoder()
    assert hash(vm.ByteEncoder())  # frozen → hashable → allowed as a field default


def test_finder_ignores_other_modules_and_fixed_sources(tmp_path):
    from ff_neuro.lava.compat import VarModelFinder

    f = VarModelFinder()
    assert f.find_spec("lava.magma.compiler.compiler") is None
    pkg = tmp_path / "lava" / "magma" / "compiler"
    pkg.mkdir(parents=True)
    (pkg / "var_model.py").write_text(
        "from dataclasses import dataclass\n@dataclass(frozen=True)\nclass ByteEncoder:\n    x: int = 0\n"
    )
    assert (
        f.find_spec("lava.magma.compiler.var_model", [str(pkg)]) is None
    )  # already fixed: no patch


def test_lava_imports_after_the_start_method_was_set():
    r = _run(
        "import multiprocessing as mp; mp.set_start_method('fork')\n"
        "import ff_neuro.lava\nimport lava.magma.runtime.message_infrastructure.multiprocessing\n"
        "assert mp.get_start_method() == 'fork'; print('OK')\n"
    )
    assert r.returncode == 0 and "OK" in r.stdout, r.stderr


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_core_package_does_not_import_lava():
    r = _run(
        "import sys, ff_neuro, ff_neuro.hardware, ff_neuro.hardware.cost, ff_neuro.cli.lava\n"
        "assert not any(m == 'lava' or m.startswith('lava.') for m in sys.modules), 'lava imported'\n"
    )
    assert r.returncode == 0, r.stderr


def test_missing_lava_raises_a_clear_error():
    r = _run(
        "import sys; sys.modules['lava'] = None\n"
        "from ff_neuro.errors import FFNeuroError\n"
        "try:\n    import ff_neuro.lava\nexcept FFNeuroError as e:\n    print('OK', type(e).__name__, e)\n"
    )
    assert r.returncode == 0, r.stderr
    assert "OK LavaNotInstalledError" in r.stdout and "ff_neuro[lava]" in r.stdout
