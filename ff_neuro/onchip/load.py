"""The frozen part of a trained run: its deployable ("static") spike spec at the run's T, and its
data.

Uses the run loader of the current layout (``ff_neuro.ff.run.open_run`` +
``spiking.store.run_spec``:
the spec ``ff-neuro spike`` saved, else a conversion with the default calibration), and falls back
to
the older loader functions of ``ff_neuro.lava.deploy`` where those are what the tree has.
"""

from __future__ import annotations


def open_spec(run_dir, dataset=None):
    """(spec, dataset) of the run in ``run_dir`` (``dataset`` replaces the run's own)."""
    try:
        from ..ff.run import open_run
        from ..spiking.store import run_spec
    except ImportError:  # an older ff_neuro, before open_run and run_spec existed
        from ..lava.deploy import load_spec, run_dataset

        data = dataset or run_dataset(run_dir)
        return load_spec(run_dir, None, data), data
    run = open_run(run_dir, dataset=dataset)
    spec, _ = run_spec(run)
    return spec, run.dataset


def check_fixed_profile(prof) -> None:
    """ProfileError-style refusal of a fixed-point profile without Lava's precision fields."""
    from ..lava.deploy import check_profile

    check_profile(prof, True)
