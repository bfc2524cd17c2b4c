"""Sweeps on Optuna: a grid of recipes trains each recipe once over all workers, a search space
stays in its bounds, results land in the study's own SQLite store, and selection is validation only."""

import numpy as np
import pytest

from ff_neuro.data import Dataset, Split
from ff_neuro.errors import ConfigError
from ff_neuro.ff import train
from ff_neuro.sweep import parse_param, parse_recipe, run_sweep
from tests.conftest import tiny_config

optuna = pytest.importorskip("optuna")


@pytest.fixture(scope="module")
def synthetic():
    rng = np.random.default_rng(0)
    mk = lambda n: Split(rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n))  # noqa: E731
    return Dataset("synthetic", mk(100), mk(40), mk(40), [str(i) for i in range(10)])


def trainer(data, seen):
    def fn(cfg, out, **kw):
        seen.append((cfg, kw))
        return train(cfg, out, "cpu", dataset=data, **kw)

    return fn


def test_parsers():
    assert parse_recipe("a:train.lr=1.0e-3;goodness.loss=symba") == (
        "a",
        {"train": {"lr": 1e-3}, "goodness": {"loss": "symba"}},
    )
    assert parse_recipe("base:") == ("base", {})
    assert parse_param("train.lr=log:1e-4:1e-2") == ("train.lr", "log", [1e-4, 1e-2])
    assert parse_param("goodness.scale=cat:4,8") == ("goodness.scale", "cat", [4, 8])
    for bad in ("train.lr=log:1:0", "lr=cat:1", "train.lr=norm:0:1"):
        with pytest.raises(ConfigError):
            parse_param(bad)
    for bad in ("../x:", ".hidden:", "a/b:"):
        with pytest.raises(ConfigError, match="names a run folder"):
            parse_recipe(bad)
    with pytest.raises(ConfigError, match="tags"):
        parse_recipe("x:train.lr=!!python/object:os.system 1")


def test_grid_trains_each_recipe_once_on_validation(synthetic, tmp_path):
    base = tiny_config(epochs=1, val_goodness_subset=20)
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    recipes = ["a:", "b:goodness.negatives=hard", "c:train.lr=3.0e-3"]
    seen = []
    res = run_sweep(base, trainer(synthetic, seen), "s", storage, tmp_path, recipes)
    assert sorted(t["params"]["recipe"] for t in res["trials"]) == ["a", "b", "c"]
    assert all(kw["test"] is False for _, kw in seen)  # the test split is never evaluated
    assert res["best"]["value"] == max(t["value"] for t in res["trials"])
    by_name = {t["params"]["recipe"]: t for t in res["trials"]}
    assert by_name["c"]["overrides"] == {"train": {"lr": 3e-3}}
    # a second worker on the same store finds the grid done and trains nothing
    again = run_sweep(base, trainer(synthetic, seen), "s", storage, tmp_path, recipes)
    assert len(seen) == 3 and len(again["trials"]) == 3
    st = optuna.load_study(study_name="s", storage=storage)
    assert len(st.trials) == 3 and st.best_value == res["best"]["value"]


def test_search_space_stays_in_bounds(synthetic, tmp_path):
    base = tiny_config(epochs=1, val_goodness_subset=20)
    seen = []
    res = run_sweep(
        base,
        trainer(synthetic, seen),
        "p",
        f"sqlite:///{tmp_path / 'p.db'}",
        tmp_path,
        params=["train.lr=log:1e-4:1e-2", "goodness.scale=cat:2,4"],
        trials=2,
    )
    assert len(res["trials"]) == 2
    for cfg, _ in seen:
        assert 1e-4 <= cfg.train.lr <= 1e-2 and cfg.goodness.scale in (2, 4)


def test_bad_sweeps_are_refused(tmp_path):
    base = tiny_config()
    st = f"sqlite:///{tmp_path / 'x.db'}"
    with pytest.raises(ConfigError, match="either"):
        run_sweep(base, None, "x", st, tmp_path)
    with pytest.raises(ConfigError, match="unknown config key"):
        run_sweep(base, None, "x", st, tmp_path, ["a:train.nope=1"])


def test_run_study_scores_each_grid_entry_once_over_workers(tmp_path):
    """The on-chip screen's path (benchmarks/onchip_sweep.py): a grid of settings in one store, each
    scored once whichever worker takes it; the attributes land in the store."""
    from ff_neuro.sweep import run_study

    storage = f"sqlite:///{tmp_path / 'onchip.db'}"
    scored = []

    def objective(trial):
        s = trial.suggest_categorical("setting", ["256,19", "64,18", "16,17"])
        scored.append(s)
        trial.set_user_attr("alpha", float(s.split(",")[0]))
        return float(s.split(",")[0]) / 1000

    grid = ["256,19", "64,18", "16,17"]
    first = run_study("onchip", storage, objective, grid[:2] + grid[2:], grid_param="setting")
    again = run_study("onchip", storage, objective, grid, grid_param="setting")
    assert sorted(scored) == sorted(grid)  # the second worker found nothing left to score
    assert first["best"]["params"] == {"setting": "256,19"} and first["best"]["alpha"] == 256.0
    assert len(again["trials"]) == 3
