"""Recipe sweeps on Optuna: every trial trains one recipe and reports its validation accuracy.

Why Optuna (not Ray Tune): it is a pure-Python package of a few MB, its studies live in any
SQLAlchemy database (SQLite for one machine, PostgreSQL/MySQL for many), and a worker is just
another process running the same command against the same ``--storage``: trials spread over
processes or machines with no scheduler to run. Ray would add a cluster runtime of several hundred
MB for the same thing.

A sweep is either a **grid of named recipes** (config overrides, as in ``benchmarks/goodness_recipes.py``;
Optuna's ``GridSampler`` hands each recipe to exactly one worker) or a **search space** of
parameters (``train.lr=log:1e-4:1e-2``, ``goodness.scale=cat:4,8,16``; TPE sampler). The objective is
the best validation accuracy of the run (goodness by default): the test split is never evaluated
(``train(..., test=False)``), so a sweep can select on its result. Each trial's run directory, the
validation curve and the seconds are kept as trial attributes in the study's own store.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from .config import Config, parse_overrides
from .errors import ConfigError

METRICS = {"goodness": "best_val_acc_goodness", "linear": "best_val_acc_linear"}
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")  # recipe and study names become folder names


def _check_name(name: str, what: str) -> str:
    if not NAME.fullmatch(name):
        raise ConfigError(
            f"{what} name {name!r} must be 1-64 letters, digits, '.', '_' or '-', not starting "
            f"with '.', '_' or '-' (it names a run folder)"
        )
    return name


def _optuna():
    try:
        import optuna
    except ImportError:
        raise ConfigError(
            "sweeps need Optuna: pip install 'ff-neuro[sweep]' (or pip install optuna)"
        ) from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def parse_recipe(spec: str) -> tuple[str, dict[str, dict]]:
    """'NAME:section.key=value;section.key=value' → (NAME, overrides); VALUE is YAML."""
    name, sep, text = spec.partition(":")
    if not sep or not name.strip():
        raise ConfigError(f"--recipe {spec!r} must look like NAME:SECTION.KEY=VALUE;...")
    name = _check_name(name.strip(), "recipe")
    items = [t.strip() for t in text.split(";") if t.strip()]
    return name, parse_overrides(items, f"--recipe {name}:")


def parse_param(spec: str) -> tuple[str, str, list]:
    """'section.key=log:LO:HI' | 'float:LO:HI' | 'int:LO:HI' | 'cat:A,B,...' → (key, kind, args)."""
    key, eq, rule = spec.partition("=")
    kind, colon, rest = rule.partition(":")
    if not eq or "." not in key or not colon:
        raise ConfigError(f"--param {spec!r} must look like SECTION.KEY=log|float|int|cat:...")
    if kind == "cat":
        return key, kind, [yaml.safe_load(v) for v in rest.split(",")]
    if kind in ("log", "float", "int"):
        try:
            lo, hi = (float(v) for v in rest.split(":"))
        except ValueError:
            raise ConfigError(f"--param {spec!r}: {kind} needs LO:HI") from None
        if not lo < hi or (kind == "log" and lo <= 0):
            raise ConfigError(f"--param {spec!r}: need 0 < LO < HI for log, LO < HI otherwise")
        return key, kind, [lo, hi]
    raise ConfigError(f"--param {spec!r}: kind must be log, float, int or cat, got {kind!r}")


def _merge(*parts: dict[str, dict]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for part in parts:
        for sec, vals in part.items():
            out.setdefault(sec, {}).update(vals)
    return out


def _suggest(trial, key: str, kind: str, args: list):
    if kind == "cat":
        return trial.suggest_categorical(key, args)
    if kind == "int":
        return trial.suggest_int(key, int(args[0]), int(args[1]))
    return trial.suggest_float(key, args[0], args[1], log=kind == "log")


def run_sweep(
    base: Config,
    train_fn: Callable[..., dict[str, Any]],
    study: str,
    storage: str,
    runs: str | Path,
    recipes: list[str] = (),
    params: list[str] = (),
    trials: int | None = None,
    metric: str = "goodness",
    shared: dict[str, dict] | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Run (this worker's share of) a sweep; returns the study's best trial so far.

    ``train_fn(cfg, run_dir, test=False, ...)`` is the trainer (``ff_neuro.pipeline.train``).
    ``recipes`` (a grid: every recipe exactly once over all workers) or ``params`` (a search space,
    ``trials`` trials by this worker) must be given, not both."""
    if bool(recipes) == bool(params):
        raise ConfigError("a sweep takes either --recipe (a grid of recipes) or --param, not both")
    if metric not in METRICS:
        raise ConfigError(f"--metric must be one of {list(METRICS)}, got {metric!r}")
    shared = shared or {}
    parsed = dict(parse_recipe(r) for r in recipes)
    if len(parsed) != len(recipes):
        raise ConfigError("two --recipe share a name")
    space = [parse_param(p) for p in params]
    for _, ov in parsed.items():  # a bad override fails now, not in trial 7
        base.replace(**_merge(shared, ov))
    runs = Path(runs)

    def objective(trial) -> float:
        if recipes:
            name = trial.suggest_categorical("recipe", sorted(parsed))
            overrides = _merge(shared, parsed[name])
        else:
            name = f"trial{trial.number}"
            vals: dict[str, dict] = {}
            for key, kind, args in space:
                sec, k = key.split(".", 1)
                vals.setdefault(sec, {})[k] = _suggest(trial, key, kind, args)
            overrides = _merge(shared, vals)
        cfg = base.replace(**overrides)
        run_dir = runs / study / name
        if run_dir.exists():  # a trial that died half-way (or a rerun of the grid): start again
            import shutil

            shutil.rmtree(run_dir)
        m = train_fn(cfg, run_dir, test=False, progress=False, verbose=False)
        value = m[METRICS[metric]]
        trial.set_user_attr("run_dir", str(run_dir))
        trial.set_user_attr("overrides", overrides)
        trial.set_user_attr("train_seconds", m["train_seconds"])
        trial.set_user_attr("best_val_acc_linear", m["best_val_acc_linear"])
        trial.set_user_attr("best_val_acc_goodness", m["best_val_acc_goodness"])
        trial.set_user_attr(
            "curve",
            [
                [r["epoch"], r["val_acc_goodness"], r["val_acc_linear"], r["train_seconds"]]
                for r in m["history"]
            ],
        )
        if value is None or not math.isfinite(value):
            raise ConfigError(f"trial {name}: no validation {metric} accuracy (is method ff?)")
        return float(value)

    grid = sorted(parsed) if recipes else None
    res = run_study(study, storage, objective, grid, trials or 10, seed, "recipe")
    return {**res, "metric": metric}


def run_study(
    study: str,
    storage: str,
    objective: Callable[[Any], float],
    grid: list | None = None,
    trials: int = 10,
    seed: int = 0,
    grid_param: str = "recipe",
) -> dict[str, Any]:
    """Run (this worker's share of) the maximising Optuna study ``study`` in ``storage``: with
    ``grid``, every entry exactly once over all the workers that share the storage (GridSampler on
    the categorical parameter ``grid_param``); otherwise ``trials`` TPE trials by this worker.
    ``objective(trial)`` returns the value (trial attributes go to the study's store); returns the
    best trial and every completed one."""
    optuna = _optuna()
    _check_name(study, "study")
    if grid is not None:
        sampler = optuna.samplers.GridSampler({grid_param: list(grid)}, seed=seed)
    else:
        sampler = optuna.samplers.TPESampler(seed=seed)
    st = optuna.create_study(
        study_name=study,
        storage=storage,
        sampler=sampler,
        direction="maximize",
        load_if_exists=True,
    )
    n = trials
    if grid is not None:  # this worker runs at most the entries no worker has taken yet (the
        # sampler stops the study when the grid is used up; a finished grid runs nothing more)
        taken = {
            t.params.get(grid_param)
            for t in st.trials
            if t.state in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.RUNNING)
        }
        n = len(set(grid) - taken)
    if n:
        st.optimize(objective, n_trials=n, catch=())
    done = [t for t in st.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not done:
        raise ConfigError(f"study {study!r} has no completed trial yet")
    best = st.best_trial
    return {
        "study": study,
        "storage": storage,
        "best": {
            "number": best.number,
            "value": best.value,
            "params": best.params,
            **best.user_attrs,
        },
        "trials": [
            {"number": t.number, "value": t.value, "params": t.params, **t.user_attrs} for t in done
        ],
    }
