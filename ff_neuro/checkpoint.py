"""Checkpoints: one safetensors file holding tensors plus JSON metadata in its header.

Never pickle: tensors go through safetensors, everything else through JSON. Writes are atomic
(temporary file + rename), so a killed run leaves the previous checkpoint intact.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from .config import from_dict
from .errors import CheckpointError, ConfigError
from .io import atomic_write_bytes

FORMAT = "ff_neuro-checkpoint-1"


def save_checkpoint(
    path: str | Path, tensors: dict[str, torch.Tensor], meta: dict[str, Any]
) -> None:
    blob = st_save(
        {k: v.detach().contiguous().cpu() for k, v in tensors.items()},
        metadata={"format": FORMAT, "meta": json.dumps(meta)},
    )
    atomic_write_bytes(path, blob)


def load_checkpoint(
    path: str | Path, check: bool = True
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """(tensors, metadata); a missing, truncated or foreign file raises :class:`CheckpointError`, and so
    (with ``check``) does metadata without the fields of a run checkpoint (see :func:`check_meta`)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(
            f"no checkpoint at {path}; train first (ff-neuro train ... --out {path.parent})"
        )
    data = path.read_bytes()
    try:
        tensors = st_load(data)
        n = int.from_bytes(data[:8], "little")
        header = json.loads(data[8 : 8 + n])
        meta_raw = header.get("__metadata__", {})
        if meta_raw.get("format") != FORMAT:
            raise ValueError("not an ff_neuro checkpoint")
        meta = json.loads(meta_raw["meta"])
    except (SafetensorError, ValueError, KeyError, OSError, RuntimeError) as e:
        raise CheckpointError(
            f"checkpoint {path} is corrupted or not an ff_neuro checkpoint ({e}); "
            f"delete it and retrain, or point to another run"
        ) from None
    if check:
        check_meta(meta, path)
    return tensors, meta


KINDS = ("rate", "spiking")


def check_meta(meta: Any, path: str | Path) -> None:
    """The metadata every ff_neuro checkpoint carries, with its types; else :class:`CheckpointError`
    "not an ff_neuro checkpoint: field X ..." (the config is validated like any config)."""

    def bad(field: str, why: str) -> CheckpointError:
        return CheckpointError(f"{path} is not an ff_neuro checkpoint: field {field!r} {why}")

    def number(v: Any) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    if not isinstance(meta, dict):
        raise CheckpointError(
            f"{path} is not an ff_neuro checkpoint: its metadata is a "
            f"{type(meta).__name__}, not a mapping"
        )
    if "config" not in meta:
        raise bad("config", "is missing")
    if not isinstance(meta["config"], dict):
        raise bad("config", f"must be a mapping, got {type(meta['config']).__name__}")
    try:
        from_dict(meta["config"])
    except ConfigError as e:
        raise bad("config", f"is invalid ({e})") from None
    if "kind" in meta and meta["kind"] not in KINDS:
        raise bad(
            "kind", f"names an unknown model kind {meta['kind']!r} (expected one of {list(KINDS)})"
        )
    if "epoch" not in meta:
        raise bad("epoch", "is missing")
    if isinstance(meta["epoch"], bool) or not isinstance(meta["epoch"], int) or meta["epoch"] < 0:
        raise bad("epoch", f"must be an integer >= 0, got {meta['epoch']!r}")
    if "train_seconds" in meta and not number(meta["train_seconds"]):
        raise bad("train_seconds", f"must be a number, got {meta['train_seconds']!r}")
    if "best" in meta:
        best = meta["best"]
        if (
            not isinstance(best, dict)
            or not isinstance(best.get("epoch"), int)
            or not (best.get("acc_linear") is None or number(best.get("acc_linear")))
        ):
            raise bad(
                "best", f"must be a mapping with an integer epoch and acc_linear, got {best!r}"
            )
    if "in_shape" in meta and not (
        isinstance(meta["in_shape"], list)
        and len(meta["in_shape"]) == 3
        and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in meta["in_shape"])
    ):
        raise bad("in_shape", f"must be three integers >= 1 (C, H, W), got {meta['in_shape']!r}")
    if "num_classes" in meta and (
        isinstance(meta["num_classes"], bool)
        or not isinstance(meta["num_classes"], int)
        or meta["num_classes"] < 2
    ):
        raise bad("num_classes", f"must be an integer >= 2, got {meta['num_classes']!r}")
    if "optimizers" in meta and not isinstance(meta["optimizers"], dict):
        raise bad("optimizers", f"must be a mapping, got {type(meta['optimizers']).__name__}")


def module_tensors(prefix: str, module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {f"{prefix}.{k}": v for k, v in module.state_dict().items()}


def load_module(prefix: str, module: torch.nn.Module, tensors: dict[str, torch.Tensor]) -> None:
    sub = {k[len(prefix) + 1 :]: v for k, v in tensors.items() if k.startswith(prefix + ".")}
    try:
        module.load_state_dict(sub)
    except RuntimeError as e:
        raise CheckpointError(
            f"checkpoint does not fit the model ({str(e).splitlines()[0]}); "
            f"was it trained with another config?"
        ) from None


def optimizer_tensors(
    prefix: str, opt: torch.optim.Optimizer
) -> tuple[dict[str, torch.Tensor], dict]:
    """Optimizer state split into tensors (safetensors) and JSON-able param groups."""
    sd = opt.state_dict()
    tensors = {}
    for pid, st in sd["state"].items():
        for k, v in st.items():
            tensors[f"{prefix}.{pid}.{k}"] = v if torch.is_tensor(v) else torch.tensor(v)
    return tensors, {"param_groups": sd["param_groups"]}


def load_optimizer(
    prefix: str, opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], meta: dict
) -> None:
    state: dict[int, dict[str, torch.Tensor]] = {}
    for k, v in tensors.items():
        if k.startswith(prefix + "."):
            pid, key = k[len(prefix) + 1 :].split(".", 1)
            state.setdefault(int(pid), {})[key] = v
    opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
