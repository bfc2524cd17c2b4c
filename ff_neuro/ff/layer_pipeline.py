"""Layer-pipelined FF under ``torchrun`` (``ff-neuro train --parallel layers``): rank r owns a
consecutive block of layers, the last rank the linear head as well.

FF needs no gradient across layers, so a step splits into stages that only pass activations forward:

  * **Stage 0** (rank 0) builds the step's labelled inputs (positives, and negatives drawn from its own
    generator: uniform, or hard from the goodness of layers it owns), trains its layers on them, and
    sends on, detached: the groups as the next layer's input, the neutral-label activation of its
    last layer, and the linear-head features of its readout layers.
  * **Stage r** receives them, trains its layers the same way and sends on; the **last stage** also
    trains the head on the features of every readout layer.
  * Every rank steps its own parameters with Adam (no all-reduce: nobody else has their gradients).

Sends are asynchronous (one step in flight at most, so memory does not grow): rank r works on step
s + 1 while rank r + 1 works on step s. Each stage computes its step from the weights of before the
step, as the sequential trainer does (:meth:`~ff_neuro.ff.model.RateModel.train_step` computes every
layer's input and the head's features before any optimiser step), so the **schedule is the sequential
one: the same updates, in the same float operations** (tests/ff/test_layer_pipeline.py checks the
weights bit for bit against one process).

At the end of each epoch every tensor (weights, Adam state) is broadcast from the rank that owns it
(:func:`sync`), so rank 0 holds the whole model: it evaluates and writes the run as in data-parallel
training, and a checkpoint resumes with any world size or mode. Refused, with one line: hard
negatives scored on a layer that stage 0 does not own, negatives from the head, the count noise of
``model.train_timesteps`` (its generator draws would be split across ranks), ``train.method`` other
than ff, and model kinds other than rate.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.distributed as tdist
import torch.nn.functional as F

from ..config import Config
from ..errors import ConfigError
from .distributed import Dist, _guard


class Stage(NamedTuple):
    """This rank's block of layers ``[lo, hi)`` of a job cut at ``starts`` (stage r starts at layer
    ``starts[r]``; the last ends at the last layer)."""

    rank: int
    starts: tuple[int, ...]
    n_layers: int

    @property
    def world(self) -> int:
        return len(self.starts)

    @property
    def lo(self) -> int:
        return self.starts[self.rank]

    @property
    def hi(self) -> int:
        return self.starts[self.rank + 1] if self.rank + 1 < self.world else self.n_layers

    @property
    def first(self) -> bool:
        return self.rank == 0

    @property
    def last(self) -> bool:
        return self.rank == self.world - 1

    def owner(self, layer: int) -> int:
        """The rank whose stage holds ``layer``."""
        return max(r for r, s in enumerate(self.starts) if s <= layer)


def plan(cfg: Config, d: Dist, starts: list[int] | None = None, kind: str = "rate") -> Stage:
    """This rank's :class:`Stage`; ``starts`` (the first layer of every stage, ``[0, …]``) defaults to
    layers split as evenly as their count allows. Raises :class:`ConfigError` for what the pipeline
    cannot run."""
    n = len(cfg.model.layers)
    if starts is None:
        starts = [round(r * n / d.world) for r in range(d.world)]
    starts = [int(s) for s in starts]
    if len(starts) != d.world or starts[0] != 0 or any(b <= a for a, b in zip(starts, starts[1:])):
        raise ConfigError(
            f"--stages {','.join(map(str, starts))} must give the first layer of each of the "
            f"{d.world} ranks' stages, starting at 0 and increasing"
        )
    if starts[-1] >= n:
        raise ConfigError(f"--stages {starts} leaves the last rank no layer (the model has {n})")
    g = cfg.goodness
    if kind != "rate" or cfg.train.method != "ff":
        raise ConfigError("--parallel layers trains rate models with train.method ff only")
    if cfg.model.train_timesteps:
        raise ConfigError("--parallel layers cannot split the count noise of model.train_timesteps")
    if g.negatives == "head":
        raise ConfigError(
            "--parallel layers: goodness.negatives head needs the head (last rank) before stage 0; "
            "use hard or uniform"
        )
    if g.negatives == "hard" and g.loss != "softmax":
        scored = cfg.model.score_layers if g.hard_layers is None else g.hard_layers
        if max(scored) >= (starts[1] if d.world > 1 else n):
            raise ConfigError(
                f"--parallel layers: hard negatives are scored on layers {list(scored)}, which stage "
                f"0 (layers 0..{starts[1] - 1}) must own: set goodness.hard_layers or --stages"
            )
    return Stage(d.rank, tuple(starts), n)


# --- point-to-point -------------------------------------------------------------------------------
_DTYPES = (torch.float32, torch.bfloat16, torch.float16, torch.int64)
_HEADER = 8  # dtype code, number of dims, up to 6 dims


class Link:
    """Tensors to the next rank and from the previous one, as raw bytes behind a small header (any
    dtype, any shape). :meth:`send` is asynchronous; it first waits for the previous step's sends, so
    at most one step's activations are in flight."""

    def __init__(self, stage: Stage):
        self.stage, self.pending = stage, []

    def send(self, tensors: list[torch.Tensor]) -> None:
        self.flush()
        dst = self.stage.rank + 1
        with _guard("pipeline send"):
            for t in tensors:
                t = t.detach().contiguous()
                head = torch.zeros(_HEADER, dtype=torch.int64)
                head[0], head[1] = _DTYPES.index(t.dtype), t.dim()
                head[2 : 2 + t.dim()] = torch.tensor(t.shape, dtype=torch.int64)
                body = t.cpu().view(-1).view(torch.uint8)
                self.pending += [(tdist.isend(head, dst), head), (tdist.isend(body, dst), body)]

    def recv(self, n: int, device: torch.device) -> list[torch.Tensor]:
        src, out = self.stage.rank - 1, []
        with _guard("pipeline receive"):
            for _ in range(n):
                head = torch.empty(_HEADER, dtype=torch.int64)
                tdist.recv(head, src)
                dtype, shape = _DTYPES[int(head[0])], [int(v) for v in head[2 : 2 + int(head[1])]]
                size = torch.Size(shape).numel() * torch.empty((), dtype=dtype).element_size()
                body = torch.empty(size, dtype=torch.uint8)
                tdist.recv(body, src)
                out.append(body.view(dtype).view(shape).to(device))
        return out

    def flush(self) -> None:
        with _guard("pipeline send"):
            for work, _ in self.pending:
                work.wait()
        self.pending = []


# --- one step -------------------------------------------------------------------------------------
def step(model, x: torch.Tensor, y: torch.Tensor, gen: torch.Generator, stage: Stage, link: Link):
    """This rank's part of :meth:`RateModel.train_step` (same operations, same order); returns the
    losses of its layers (and of the head on the last rank), with their sum as ``total``."""
    cfg = model.cfg
    for opt in model.optimizers.values():
        opt.zero_grad(set_to_none=True)
    readout = [i for i in cfg.model.readout_layers if i < stage.lo]  # features from earlier stages
    if stage.first:
        neutral = model._fmt(model.labels.neutral(x))
        groups = model._ff_groups(x, y, gen)
        feats: list[torch.Tensor] = []
    else:
        n_groups = 1 if cfg.goodness.loss == "softmax" or cfg.train.ff_posneg == "batched" else 2
        got = link.recv(1 + n_groups + len(readout), model.device)
        neutral = model._fmt(got[0])
        groups = [model._fmt(h) for h in got[1 : 1 + n_groups]]
        feats = got[1 + n_groups :]
    # the head's input: the neutral-label activations of this stage's layers (no gradient)
    with torch.no_grad(), model.autocast():
        for i in range(stage.lo, stage.hi):
            neutral = model.net.layers[i](neutral)
            if i in cfg.model.readout_layers:
                feats.append(model.net.features_of(neutral))
    last_loss = max(cfg.model.loss_layers, default=-1)
    groups, out = model._train_layers(groups, y, gen, range(stage.lo, min(stage.hi, last_loss + 1)))
    if not stage.last:
        link.send([neutral, *groups, *feats])
    else:
        mine = [i for i in range(stage.lo, stage.hi) if i in cfg.model.readout_layers]
        by_layer = dict(zip(readout + mine, feats))
        logits = model.head(torch.cat([by_layer[i] for i in cfg.model.readout_layers], 1))
        head_loss = F.cross_entropy(logits, y)
        head_loss.backward()
        out["head"] = head_loss.detach()
    for opt in model.optimizers.values():
        opt.step()
    out["total"] = sum(out.values()) if out else torch.zeros(())
    return out


def loss_keys(cfg: Config) -> list[str]:
    """Every key a sequential step logs, in its order."""
    return [f"layer{i}" for i in sorted(cfg.model.loss_layers)] + ["head", "total"]


def sum_over_stages(values: dict[str, torch.Tensor], keys: list[str], d: Dist):
    """Every rank's share of the step's losses added up (each rank logs only its own layers')."""
    if not d.active:
        return values
    v = torch.stack([values[k].float().cpu() if k in values else torch.zeros(()) for k in keys])
    with _guard("loss all_reduce"):
        tdist.all_reduce(v)
    return dict(zip(keys, v))


# --- the end of an epoch --------------------------------------------------------------------------
def sync(model, stage: Stage, d: Dist) -> None:
    """Every rank receives every layer's and the head's weights and Adam state from their owner."""
    if not d.active:
        return
    owners = [(model.net.layers[i], stage.owner(i)) for i in range(stage.n_layers)]
    owners.append((model.head, stage.world - 1))
    with _guard("pipeline sync"):
        for module, owner in owners:
            for t in module.state_dict(keep_vars=True).values():
                _broadcast(t.data, owner)
            for p in module.parameters():
                for opt in model.optimizers.values():
                    if any(p is q for g in opt.param_groups for q in g["params"]):
                        for t in _adam_state(opt, p):
                            _broadcast(t, owner)


def _adam_state(opt: torch.optim.Optimizer, p: torch.nn.Parameter) -> list[torch.Tensor]:
    """Adam's state of ``p`` (created as at its first step where this rank never stepped ``p``)."""
    st = opt.state[p]
    if not st:
        st["step"] = torch.zeros((), dtype=torch.float32)
        st["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        st["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
    return [st["step"], st["exp_avg"], st["exp_avg_sq"]]


def _broadcast(t: torch.Tensor, src: int) -> None:
    """``t`` from rank ``src``, in place, through a contiguous (and, for NCCL, CUDA) copy if needed."""
    nccl_from_cpu = tdist.get_backend() == "nccl" and t.device.type != "cuda"
    tmp = t.cuda() if nccl_from_cpu else t.contiguous()  # t itself when already contiguous
    tdist.broadcast(tmp, src)
    if tmp is not t:
        t.copy_(tmp)
