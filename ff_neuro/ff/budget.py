"""Training within a wall-clock budget (``train.budget_minutes``): how many epochs fit, decided once.

With a fixed budget, a schedule that decays the learning rate to its end at the end of the budget
beats stopping a longer schedule early (Li, Yumer & Ramanan, "Budgeted Training: Rethinking Deep
Neural Network Training Under Resource Constraints", ICLR 2020). So a budgeted run fixes its number
of epochs E before its first step and runs the config's schedule (cosine, cool-down) over E epochs:

    E = min(E_cfg, max(1, ⌊(B − t_spent − t_test) / (S · t_step + t_val)⌋))

B is the budget in seconds, t_spent what the run has used before its first step (loading the data,
choosing the precision, this measurement), S the steps per epoch, t_step the median seconds of real
training steps of the run's own model, precision and batch (on a copy: the run is untouched), t_val
one epoch's validation and t_test the final test evaluation, both timed on a slice of the split and
scaled by its size. The decision and the measurements behind it are recorded (``metrics.json``
"budget", the checkpoint's meta), and a resumed run keeps them instead of measuring again, so its
schedule is the one it started with. A budget too small for one epoch still trains one (and says so).

The estimate counts the compute only: a machine shared with other jobs slows the run after the
decision, and the record keeps the estimate beside the time the epochs really took.
"""

from __future__ import annotations

import math
import time
from typing import NamedTuple

import torch

from .precision import time_step

PROBE_IMAGES = 200  # images per split timed to estimate an evaluation


class Budget(NamedTuple):
    """A budgeted run's decision: ``epochs`` of ``requested``, and what it was computed from."""

    minutes: float
    epochs: int
    requested: int
    step_s: float
    steps_per_epoch: int
    val_s: float
    test_s: float
    spent_s: float

    @property
    def epoch_s(self) -> float:
        """The estimated seconds of one epoch (training steps and validation)."""
        return self.steps_per_epoch * self.step_s + self.val_s

    @property
    def total_s(self) -> float:
        """The estimated seconds of the whole run: before the first step, the epochs, the test."""
        return self.spent_s + self.epochs * self.epoch_s + self.test_s

    def record(self) -> dict:
        return {
            "minutes": self.minutes,
            "epochs": self.epochs,
            "requested_epochs": self.requested,
            "step_s": round(self.step_s, 5),
            "steps_per_epoch": self.steps_per_epoch,
            "val_s": round(self.val_s, 3),
            "test_s": round(self.test_s, 3),
            "spent_s": round(self.spent_s, 3),
            "estimated_epoch_s": round(self.epoch_s, 3),
            "estimated_total_s": round(self.total_s, 3),
        }

    @classmethod
    def from_record(cls, rec: dict) -> Budget:
        return cls(
            float(rec["minutes"]),
            int(rec["epochs"]),
            int(rec["requested_epochs"]),
            float(rec["step_s"]),
            int(rec["steps_per_epoch"]),
            float(rec["val_s"]),
            float(rec["test_s"]),
            float(rec["spent_s"]),
        )

    def summary(self) -> str:
        """One line for the log: what fits and why."""
        fits = "all" if self.epochs == self.requested else f"{self.epochs} of"
        tail = (
            ""
            if self.total_s <= 60 * self.minutes
            else " (one epoch is more than the budget: trained anyway)"
        )
        return (
            f"budget {self.minutes:g} min: {fits} {self.requested} epochs fit "
            f"(~{self.epoch_s:.0f} s per epoch: {self.steps_per_epoch} steps of "
            f"{1000 * self.step_s:.0f} ms + {self.val_s:.0f} s validation; test {self.test_s:.0f} s)"
            + tail
        )


def epochs_within(
    budget_s: float, spent_s: float, epoch_s: float, test_s: float, requested: int
) -> int:
    """E of the module docstring: the whole epochs that fit, at least 1 and at most ``requested``."""
    left = budget_s - spent_s - test_s
    fit = math.floor(left / epoch_s) if epoch_s > 0 else requested
    return int(min(requested, max(1, fit)))


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def eval_seconds(model, split, batch_size: int, goodness: bool, linear: bool = True) -> float:
    """Estimated seconds of ``evaluate(model, split, …)``: a slice of :data:`PROBE_IMAGES` images timed
    (after one untimed pass) and scaled by the split's size."""
    from .trainer import evaluate

    n = len(split)
    if n == 0 or not (goodness or linear):
        return 0.0
    part = split.subset(min(PROBE_IMAGES, n), seed=0)

    def run():
        evaluate(model, part, batch_size, goodness=goodness, linear=linear)

    run()
    return _timed(run) * n / len(part)


def decide(
    minutes: float,
    requested: int,
    model,
    batch: tuple[torch.Tensor, torch.Tensor],
    steps_per_epoch: int,
    val_splits: list[tuple[object, bool, bool]],
    test_split,
    eval_batch: int,
    started: float,
) -> Budget:
    """Measure and decide (module docstring). ``val_splits``: (split, goodness, linear) evaluated
    every epoch; ``test_split`` the split evaluated once at the end (None: no test); ``started``
    the ``time.perf_counter()`` at which the run began."""
    step_s = time_step(model, *batch, model.precision) / 1000.0
    val_s = sum(eval_seconds(model, s, eval_batch, g, lin) for s, g, lin in val_splits)
    test_s = eval_seconds(model, test_split, eval_batch, True) if test_split is not None else 0.0
    spent = time.perf_counter() - started
    b = Budget(minutes, requested, requested, step_s, steps_per_epoch, val_s, test_s, spent)
    return b._replace(epochs=epochs_within(60.0 * minutes, spent, b.epoch_s, test_s, requested))
