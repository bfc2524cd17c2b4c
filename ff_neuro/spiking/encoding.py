"""Input encodings of a labelled image x' ∈ [0, 1] (N, C, H, W) over T steps → (T, N, C, H, W).

* ``current``: the constant current I[t] = x' at every step (deterministic);
* ``rate``:    Bernoulli spikes s[t] ~ B(clamp(x', 0, 1)) independently per step and pixel
               (the semantics of ``snntorch.spikegen.rate``, but drawn from a seeded generator).
"""

from __future__ import annotations

import torch

from .errors import EncodingError, TimestepsError

ENCODINGS = ("current", "rate")


def check_timesteps(T: int) -> int:
    if not isinstance(T, int) or isinstance(T, bool) or T < 1:
        raise TimestepsError(f"the number of time steps must be an integer >= 1, got {T!r}")
    return T


def check_encoding(encoding: str) -> str:
    if encoding not in ENCODINGS:
        raise EncodingError(f"unknown input encoding {encoding!r}; choose one of {list(ENCODINGS)}")
    return encoding


def encode(
    x_labelled: torch.Tensor,
    T: int,
    encoding: str = "current",
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """(T, N, C, H, W) layer-0 input of the labelled images ``x_labelled`` (N, C, H, W)."""
    check_timesteps(T)
    check_encoding(encoding)
    if encoding == "current":
        return x_labelled.unsqueeze(0).expand(T, *x_labelled.shape)
    p = x_labelled.clamp(0, 1)
    u = torch.rand(
        (T, *p.shape),
        generator=generator,
        dtype=p.dtype,
        device=generator.device if generator is not None else p.device,
    )
    return (u.to(p.device) < p).to(p.dtype)
