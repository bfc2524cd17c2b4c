"""Data-parallel FF training on ``torch.distributed`` (gloo on CPU, NCCL on CUDA), under ``torchrun``.

Every rank holds the whole model and trains on its shard of each global batch:

  * **Data.** The epoch's permutation is the seeded (seed, epoch) one of the single-process trainer,
    the same on every rank; global batch s is ``perm[s·B:(s+1)·B]`` and rank r takes rows
    ``r·B/W … (r+1)·B/W − 1`` of it (W ranks; W must divide the batch B).
  * **Negatives.** Every rank draws the negatives of the *whole* global batch from the same (seed,
    epoch) generator, from the labels and (hard negatives) the goodness scores gathered from all ranks,
    and keeps its rows: the draws are those of one process with batch B, reproducibly per rank.
  * **Gradients.** FF has no gradient across layers, so each layer's gradient is all-reduced
    (averaged) as soon as that layer's local backward ends, asynchronously while the next layer
    computes; the head's as well. Every loss is a mean over the batch and the shards are equal, so
    the average of the ranks' gradients is the gradient of batch B: W ranks × B/W compute the
    single-process step up to the order of float additions (tests/ff/test_distributed.py).
  * **Files.** Rank 0 alone holds the run lock and writes config, checkpoints, logs and metrics (as
    atomically as the single-process trainer); it alone evaluates, while the others wait. ``--resume``
    reads the (world-size independent) checkpoint on every rank, so a run resumes with any W that
    divides the batch.

A rank that dies makes the collectives of the others fail; the survivors stop with one line
(:class:`DistributedError`) instead of hanging: at once when its connection closes, or after
``FF_NEURO_DIST_TIMEOUT`` seconds (default 1800) when it hangs; torchrun then ends the job. torchrun
may be quicker than the collective: it sends SIGTERM to the survivors as soon as it sees a worker
die, so every rank turns SIGTERM into the same one-line :class:`DistributedError` (the checkpoint
files are written atomically, so the last one is intact whatever the moment).
"""

from __future__ import annotations

import datetime as dt
import os
import signal
from collections.abc import Iterable
from typing import NamedTuple

import torch
import torch.distributed as tdist

from ..errors import FFNeuroError


class DistributedError(FFNeuroError, RuntimeError):
    """A collective failed (a peer died, the rendezvous broke, a bad world size): one line, exit 2."""


class Dist(NamedTuple):
    """This process's place in the job: ``rank`` of ``world`` (world 1: no collectives at all)."""

    rank: int = 0
    world: int = 1

    @property
    def active(self) -> bool:
        return self.world > 1

    @property
    def main(self) -> bool:
        return self.rank == 0


SINGLE = Dist()
_joined = False  # whether :func:`init` created the process group (and :func:`shutdown` may end it)


def env_world() -> int:
    """WORLD_SIZE as torchrun sets it (1 outside torchrun)."""
    try:
        return max(1, int(os.environ.get("WORLD_SIZE", "1")))
    except ValueError:
        raise DistributedError(f"WORLD_SIZE={os.environ['WORLD_SIZE']!r} is not a number") from None


def init(device: torch.device) -> Dist:
    """Join the torchrun job if there is one (gloo on CPU, NCCL on CUDA); :data:`SINGLE` otherwise."""
    if env_world() == 1:
        return SINGLE
    global _joined
    if not tdist.is_initialized():
        timeout = dt.timedelta(seconds=float(os.environ.get("FF_NEURO_DIST_TIMEOUT", "1800")))
        backend = "nccl" if device.type == "cuda" else "gloo"
        try:
            if device.type == "cuda":
                torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
            tdist.init_process_group(backend, timeout=timeout)
            _joined = True
        except (RuntimeError, ValueError) as e:
            raise DistributedError(f"could not join the torchrun job: {_first_line(e)}") from None
        _stop_on_sigterm()
    return Dist(tdist.get_rank(), tdist.get_world_size())


def _stop_on_sigterm() -> None:
    """torchrun ends the other workers with SIGTERM when one dies (or the job is stopped): raise the
    one-line :class:`DistributedError` then, in the main thread, instead of dying without a word."""

    def stop(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends the process as usual
        raise DistributedError(
            f"rank {os.environ.get('RANK', '?')} was stopped by torchrun (SIGTERM): another rank died "
            f"or the job was ended; the last checkpoint is intact, resume with --resume"
        )

    signal.signal(signal.SIGTERM, stop)


def check_batch(d: Dist, batch_size: int) -> int:
    """The per-rank batch B/W; W must divide B."""
    if batch_size % d.world:
        raise DistributedError(
            f"train.batch_size {batch_size} is not divisible by the {d.world} ranks of this job: "
            f"choose a batch size that is a multiple of --nproc-per-node × nodes"
        )
    return batch_size // d.world


def shard(idx: torch.Tensor, d: Dist) -> torch.Tensor:
    """This rank's rows of one global batch of indices."""
    if not d.active:
        return idx
    b = len(idx) // d.world
    return idx[d.rank * b : (d.rank + 1) * b]


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]


def _guard(what: str):
    class _Ctx:
        def __enter__(self):
            return self

        def __exit__(self, typ, exc, tb):
            if exc is not None and isinstance(exc, (RuntimeError, tdist.DistBackendError)):
                if isinstance(exc, FFNeuroError):
                    return False
                raise DistributedError(
                    f"{what} failed on rank {tdist.get_rank()}: {_first_line(exc)} "
                    f"(another rank died or the network broke; resume with --resume)"
                ) from None
            return False

    return _Ctx()


def all_gather_rows(t: torch.Tensor, d: Dist) -> torch.Tensor:
    """(W·b, ...) rows of every rank in rank order, from this rank's (b, ...) ``t``."""
    if not d.active:
        return t
    parts = [torch.empty_like(t) for _ in range(d.world)]
    with _guard("all_gather"):
        tdist.all_gather(parts, t.contiguous())
    return torch.cat(parts)


def rows_of_rank(t: torch.Tensor, d: Dist) -> torch.Tensor:
    """This rank's rows of a (W·b, ...) tensor gathered by :func:`all_gather_rows`."""
    if not d.active:
        return t
    b = len(t) // d.world
    return t[d.rank * b : (d.rank + 1) * b]


class GradReducer:
    """Averages gradients over the ranks: ``launch`` starts the all-reduce of some parameters'
    gradients (asynchronously, right after their layer's backward); ``wait`` finishes them all
    before the optimiser steps. A no-op with one rank."""

    def __init__(self, d: Dist):
        self.d, self.pending = d, []

    def launch(self, params: Iterable[torch.nn.Parameter]) -> None:
        if not self.d.active:
            return
        with _guard("gradient all_reduce"):
            for p in params:
                if p.grad is not None:
                    self.pending.append((p, tdist.all_reduce(p.grad, async_op=True)))

    def wait(self) -> None:
        with _guard("gradient all_reduce"):
            for p, work in self.pending:
                work.wait()
                p.grad.div_(self.d.world)
        self.pending = []


def mean_over_ranks(values: dict[str, torch.Tensor], d: Dist) -> dict[str, torch.Tensor]:
    """The ranks' average of every (scalar) value, for the logged losses."""
    if not d.active:
        return values
    keys = sorted(values)
    flat = torch.stack([values[k].detach().float().reshape(()) for k in keys])
    with _guard("loss all_reduce"):
        tdist.all_reduce(flat)
    return {k: v / d.world for k, v in zip(keys, flat)}


def broadcast_object(obj, d: Dist):
    """Rank 0's ``obj`` on every rank (e.g. the precision rank 0 measured)."""
    if not d.active:
        return obj
    box = [obj]
    with _guard("broadcast"):
        tdist.broadcast_object_list(box, src=0)
    return box[0]


def barrier(d: Dist) -> None:
    if d.active:
        with _guard("barrier"):
            tdist.barrier()


def shutdown(d: Dist) -> None:
    """End the process group if :func:`init` created it (not one the caller set up)."""
    global _joined
    if d.active and _joined and tdist.is_initialized():
        tdist.destroy_process_group()
        _joined = False
