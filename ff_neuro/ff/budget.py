"""Training within a wall-clock budget (``train.budget_minutes``): how many epochs fit, decided before
the first step and again after every epoch.

With a fixed budget, a schedule that decays the learning rate to its end at the end of the budget
beats stopping a longer schedule early (Li, Yumer & Ramanan, "Budgeted Training: Rethinking Deep
Neural Network Training Under Resource Constraints", ICLR 2020). So a budgeted run fixes its number
of epochs E before its first step and runs the config's schedule (cosine, cool-down) over E epochs:

    E = min(E_cfg, max(1, ⌊(B − t_spent − t_test) / (S · t_step + t_val)⌋))

B is the budget in seconds, t_spent what the run has used before its first step (loading the data,
choosing the precision, this measurement), S the steps per epoch, t_step the median seconds of real
training steps of the run's own model, precision and batch (on a copy: the run is untouched), t_val
one epoch's validation and t_test the final test evaluation, both timed on a slice of the split and
scaled by its size. A budget too small for one epoch still trains one (and says so).

A few timed steps misjudge a whole epoch (on a 2-core Xeon VM the estimate ran 6–32 % high), and a
shared VM's speed drifts during a run (the same run's epochs took 104 s, then 119 s), so the decision
is made again after every epoch k but the last, by :func:`replan`, from the wall clock t_k at the end
of epoch k's validation:

    E_k = min(E_cfg, max(k, k + ⌊(B − t_k − t_test) / t_e⌋)),  t_e = max(t_k − t_{k−1}, (t_k − t_spent)/k)

t_e is the slower of the last epoch and the mean epoch so far (t₀ = t_spent), so a machine that slows
down shortens the plan at once; E_k = k ends the run now. A plan grows only when the extra epochs
fit at (1 + m)·t_e, m = :data:`EXTEND_MARGIN` (else it keeps E_{k−1}): without that margin a run
whose epochs sit on the boundary flip-flopped (`make demo`, 2026-12-06: 5 → 6 → 5 → 6 → 5 epochs
at 57–58 s per epoch), re-spreading its cosine each time. The lr schedule keeps every step as it ran
and spreads the rest of its cosine over the epochs of the new plan (``trainer.lr_factor``,
``plans``), so lr is continuous. A resumed run keeps the plan it was stopped with and does not
re-plan (its clock started again), so its schedule is the one it was stopped with. The decisions
and the measurements behind them are recorded (``metrics.json`` "budget": ``plans`` [[0, E₀],
[k, E_k], …] for every change; the checkpoint's meta; the epoch's line of ``metrics.jsonl``:
"replanned": [before, after]).

A hybrid spiking run (``spiking.rate_epochs`` R > 0: the model's ``rate_epochs``) first trains R
epochs of the network's rate limit, whose steps and validation are cheaper; they are timed apart
(t_rate and t_rval, t_r = S_r·t_rate + t_rval, with S_r the steps of a whole pass over the training
split; a spiking epoch's S is smaller where ``spiking.epoch_images`` makes it a part of that pass:
``model.epoch_steps``). The budget keeps at least one spiking epoch, so it
first decides how many of the R rate epochs fit beside one spiking epoch and the test:

    R' = min(R, max(0, ⌊(B − t_spent − t_test − (S · t_step + t_val)) / t_r⌋))

and then how many spiking epochs follow them, at least one and at most E_cfg − R:

    E = R' + min(E_cfg − R, max(1, ⌊(B − t_spent − R'·t_r − t_test) / (S · t_step + t_val)⌋))

R' < R only where one spiking epoch is too dear for the whole rate phase (a CPU without bf16
hardware, where a T = 16 spiking step costs 7–8 rate steps: docs/RESULTS.md); it then trains R'
rate epochs on their own cosine (``trainer.run_lr_factor``), and with R' = 0 it is a plain spiking
run from scratch, at the full learning rate. R' is decided once, before the first step, and
recorded ("rate_epochs" beside "requested_rate_epochs"); the re-plans below change only the spiking
epochs. A re-plan after a rate epoch k ≤ R' keeps the estimated spiking epoch and takes the rate
epochs still to come at the pace of those measured, t_r = max(t_k − t_{k−1}, (t_k − t_spent)/k):

    E_k = R' + min(E_cfg − R, max(1, ⌊(B − t_k − (R' − k)·t_r − t_test) / (S · t_step + t_val)⌋))

and after a spiking epoch k > R' it is the formula above with the mean taken over the spiking epochs
only, (t_k − t_R')/(k − R').

Only the last epoch and the test evaluation run without a re-plan after them: a machine that slows
down during those still ends the run late, and the record keeps the plans beside the wall clock the
run really took ("wall_s").
"""

from __future__ import annotations

import math
import time
from typing import NamedTuple

import torch

from .precision import time_step

PROBE_IMAGES = 200  # images per split timed to estimate an evaluation
EXTEND_MARGIN = 0.05  # a re-plan adds epochs only if they fit at (1 + this) x the measured epoch


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
    plans: tuple[tuple[int, int], ...] | None = None  # ((0, E₀), (k, E_k), …) once re-planned
    mark_s: float | None = None  # t_k of the last re-plan (seconds since the run began)
    epoch_s_used: float | None = None  # the t_e of the last re-plan
    rate_epochs: int = 0  # R leading rate-limit epochs of a hybrid spiking run
    rate_step_s: float = 0.0  # t_rate: seconds of one of their steps
    rate_val_s: float = 0.0  # t_rval: their validation (in the rate limit)
    rate_end_s: float | None = None  # t_R: when the last of them ended (s since the run began)
    rate_requested: int = 0  # R of the config (rate_epochs = R' ≤ R of them fitted the budget)
    rate_steps_per_epoch: int = 0  # S_r: steps of a rate epoch (0: S, a spiking epoch's)

    @property
    def epoch_s(self) -> float:
        """The estimated seconds of one epoch (training steps and validation)."""
        return self.steps_per_epoch * self.step_s + self.val_s

    @property
    def rate_epoch_s(self) -> float:
        """The estimated seconds of one rate-limit epoch (its steps and its validation)."""
        return self.rate_steps * self.rate_step_s + self.rate_val_s

    @property
    def rate_steps(self) -> int:
        """S_r, the steps of one rate-limit epoch."""
        return self.rate_steps_per_epoch or self.steps_per_epoch

    @property
    def max_epochs(self) -> int:
        """The most epochs a re-plan may reach: E_cfg, less the rate epochs that did not fit."""
        return self.requested - (self.rate_requested - self.rate_epochs)

    @property
    def total_s(self) -> float:
        """The estimated seconds of the whole run: before the first step, the epochs, the test."""
        r = self.rate_epochs
        return self.spent_s + r * self.rate_epoch_s + (self.epochs - r) * self.epoch_s + self.test_s

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
            **(
                {}
                if self.plans is None
                else {
                    "plans": [list(p) for p in self.plans],
                    "replanned_at_s": round(self.mark_s, 3),
                    "replanned_epoch_s": round(self.epoch_s_used, 3),
                }
            ),
            **(
                {}
                if not self.rate_requested
                else {
                    "rate_epochs": self.rate_epochs,
                    "requested_rate_epochs": self.rate_requested,
                    "rate_step_s": round(self.rate_step_s, 5),
                    "rate_steps_per_epoch": self.rate_steps_per_epoch,  # 0: steps_per_epoch
                    "rate_val_s": round(self.rate_val_s, 3),
                    "estimated_rate_epoch_s": round(self.rate_epoch_s, 3),
                    "rate_end_s": None if self.rate_end_s is None else round(self.rate_end_s, 3),
                }
            ),
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
            None if rec.get("plans") is None else tuple((int(k), int(e)) for k, e in rec["plans"]),
            None if rec.get("replanned_at_s") is None else float(rec["replanned_at_s"]),
            None if rec.get("replanned_epoch_s") is None else float(rec["replanned_epoch_s"]),
            int(rec.get("rate_epochs", 0)),
            float(rec.get("rate_step_s", 0.0)),
            float(rec.get("rate_val_s", 0.0)),
            None if rec.get("rate_end_s") is None else float(rec["rate_end_s"]),
            int(rec.get("requested_rate_epochs", rec.get("rate_epochs", 0))),
            int(rec.get("rate_steps_per_epoch", 0)),
        )

    def replan_summary(self, epoch: int, was: int) -> str:
        """One line for the log when a re-plan changed the epochs."""
        return (
            f"budget re-planned after epoch {epoch} ({self.epoch_s_used:.0f} s per epoch measured, "
            f"~{self.epoch_s:.0f} s estimated at the start): {was} → {self.epochs} of "
            f"{self.requested} epochs"
        )

    def summary(self) -> str:
        """One line for the log: what fits and why."""
        fits = "all" if self.epochs == self.requested else f"{self.epochs} of"
        tail = (
            ""
            if self.total_s <= 60 * self.minutes
            else " (one epoch is more than the budget: trained anyway)"
        )
        r, asked, rate = self.rate_epochs, self.rate_requested, ""
        each = f"~{self.rate_epoch_s:.0f} s each: steps of {1000 * self.rate_step_s:.0f} ms"
        if r and r == asked:
            rate = f"; the first {r} in the rate limit, {each}"
        elif asked:
            which = f"only {r}" if r else "none"
            rate = (
                f"; {which} of the {asked} rate-limit epochs ({each}) fit beside one spiking "
                f"epoch" + ("" if r else ": a plain spiking run")
            )
        return (
            f"budget {self.minutes:g} min: {fits} {self.requested} epochs fit "
            f"(~{self.epoch_s:.0f} s per epoch: {self.steps_per_epoch} steps of "
            f"{1000 * self.step_s:.0f} ms + {self.val_s:.0f} s validation{rate}; "
            f"test {self.test_s:.0f} s)" + tail
        )


def epochs_within(
    budget_s: float, spent_s: float, epoch_s: float, test_s: float, requested: int
) -> int:
    """E of the module docstring: the whole epochs that fit, at least 1 and at most ``requested``."""
    left = budget_s - spent_s - test_s
    fit = math.floor(left / epoch_s) if epoch_s > 0 else requested
    return int(min(requested, max(1, fit)))


def rate_epochs_within(
    budget_s: float, spent_s: float, rate_epoch_s: float, epoch_s: float, test_s: float, rate: int
) -> int:
    """R' of the module docstring: the rate epochs of ``rate`` that fit beside one spiking epoch."""
    left = budget_s - spent_s - test_s - epoch_s
    fit = math.floor(left / rate_epoch_s) if rate_epoch_s > 0 else rate
    return int(min(rate, max(0, fit)))


def replan(b: Budget, epoch: int, elapsed_s: float) -> Budget:
    """The decision made again at the end of epoch ``epoch`` (module docstring), ``elapsed_s`` = t_k
    seconds after the run began. ``plans`` gains an entry when the epochs change."""
    last = elapsed_s - (b.spent_s if b.mark_s is None else b.mark_s)
    r, rate_end = b.rate_epochs, b.rate_end_s
    left = 60.0 * b.minutes - elapsed_s - b.test_s
    if epoch <= r:  # in the rate limit: its pace for the rest of it, the estimate for the spikes
        pace = max(last, (elapsed_s - b.spent_s) / epoch, 1e-9)
        left -= (r - epoch) * pace
        per, base, least = max(b.epoch_s, 1e-9), r, r + 1
        rate_end = elapsed_s if epoch == r else None
    else:  # the spiking epochs so far (all epochs when r = 0)
        since = b.spent_s if rate_end is None else rate_end
        per = max(last, (elapsed_s - since) / (epoch - r), 1e-9)
        base, least = epoch, epoch
    most = b.max_epochs
    epochs = int(min(most, max(least, base + math.floor(left / per))))
    if epochs > b.epochs:  # a longer plan must fit with a margin, or a borderline run flip-flops
        longer = base + math.floor(left / (per * (1.0 + EXTEND_MARGIN)))
        epochs = int(max(b.epochs, min(most, longer)))
    plans = b.plans or ((0, b.epochs),)
    if epochs != b.epochs:
        plans = (*plans, (epoch, epochs))
    return b._replace(
        epochs=epochs, plans=plans, mark_s=elapsed_s, epoch_s_used=per, rate_end_s=rate_end
    )


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
    rate_steps: int | None = None,
) -> Budget:
    """Measure and decide (module docstring). ``steps_per_epoch``: S, the steps of an epoch in the
    model's phase at the call (a spiking epoch, ``spiking.epoch_images``); ``rate_steps``: S_r, those
    of a rate-limit epoch (None: S); ``val_splits``: (split, goodness, linear) evaluated every epoch;
    ``test_split`` the split evaluated once at the end (None: no test); ``started`` the
    ``time.perf_counter()`` at which the run began."""
    step_s = time_step(model, *batch, model.precision) / 1000.0
    val_s = sum(eval_seconds(model, s, eval_batch, g, lin) for s, g, lin in val_splits)
    r, rate_step_s, rate_val_s = min(model.rate_epochs, requested - 1), 0.0, 0.0
    if r:  # the rate-limit step and validation, timed in the rate phase, which is then left
        model.begin_epoch(1)
        rate_step_s = time_step(model, *batch, model.precision) / 1000.0
        rate_val_s = sum(eval_seconds(model, s, eval_batch, g, lin) for s, g, lin in val_splits)
        model.begin_epoch(r + 1)
    test_s = eval_seconds(model, test_split, eval_batch, True) if test_split is not None else 0.0
    spent = time.perf_counter() - started
    b = Budget(minutes, requested, requested, step_s, steps_per_epoch, val_s, test_s, spent)
    b = b._replace(
        rate_step_s=rate_step_s,
        rate_val_s=rate_val_s,
        rate_steps_per_epoch=steps_per_epoch if rate_steps is None else rate_steps,
    )
    fitted = rate_epochs_within(60.0 * minutes, spent, b.rate_epoch_s, b.epoch_s, test_s, r)
    b = b._replace(rate_epochs=fitted, rate_requested=r)
    fit = epochs_within(
        60.0 * minutes, spent + fitted * b.rate_epoch_s, b.epoch_s, test_s, requested - r
    )
    return b._replace(epochs=fitted + fit)
