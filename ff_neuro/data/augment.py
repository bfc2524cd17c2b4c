"""Training-time augmentation: random translations and horizontal mirrors of whole images.

``random_shift(x, s, gen)`` moves each image of a batch by its own integer offset (dy, dx), each drawn
uniformly from {−s, …, s}, and fills what enters the frame with zeros (MNIST's background):

    y[n, c, i, j] = x[n, c, i − dy_n, j − dx_n]   where 0 ≤ i − dy_n < H and 0 ≤ j − dx_n < W, else 0

``flip_images(x, f)`` mirrors the images whose f_n is true left to right, y[n, c, i, j] = x[n, c, i,
W − 1 − j] (Fashion-MNIST's clothes are symmetric; digits are not, so it is off for MNIST). A
:class:`Draw` holds both for one batch; :func:`apply` shifts, then mirrors.

It touches training images only, so nothing of it reaches inference, conversion or the chip. The
draws come from ``gen`` (the trainer's per-epoch generator), so a resumed run replays them exactly.
"""

from __future__ import annotations

from typing import NamedTuple

import torch


def draw_shifts(n: int, max_shift: int, gen: torch.Generator) -> torch.Tensor:
    """(n, 2) integer offsets (dy, dx), each uniform on {−max_shift, …, max_shift}, drawn on the CPU."""
    return torch.randint(-max_shift, max_shift + 1, (n, 2), generator=gen)


def shift_images(x: torch.Tensor, shifts: torch.Tensor) -> torch.Tensor:
    """Images ``x`` (N, C, H, W) moved by ``shifts`` (N, 2) = (dy, dx) pixels, zero-filled."""
    n, c, h, w = x.shape
    s = int(shifts.abs().max()) if len(shifts) else 0
    if s == 0:
        return x
    shifts = shifts.to(x.device)
    padded = torch.nn.functional.pad(x, (s, s, s, s)).reshape(n, c, -1)  # (N, C, (H+2s)(W+2s))
    rows = (torch.arange(h, device=x.device) + s).unsqueeze(0) - shifts[:, :1]  # (N, H)
    cols = (torch.arange(w, device=x.device) + s).unsqueeze(0) - shifts[:, 1:]  # (N, W)
    flat = (rows[:, :, None] * (w + 2 * s) + cols[:, None, :]).reshape(n, 1, h * w)
    return padded.gather(2, flat.expand(n, c, h * w)).reshape(n, c, h, w)


def random_shift(x: torch.Tensor, max_shift: int, gen: torch.Generator) -> torch.Tensor:
    """``x`` with every image moved by its own random offset in {−max_shift, …, max_shift}²."""
    if max_shift <= 0:
        return x
    return shift_images(x, draw_shifts(len(x), max_shift, gen))


def draw_flips(n: int, gen: torch.Generator) -> torch.Tensor:
    """(n,) booleans, each true with probability 1/2, drawn on the CPU."""
    return torch.randint(0, 2, (n,), generator=gen).bool()


def flip_images(x: torch.Tensor, flips: torch.Tensor) -> torch.Tensor:
    """Images ``x`` (N, C, H, W), those with ``flips[n]`` true mirrored left to right."""
    if not bool(flips.any()):
        return x
    return torch.where(flips.to(x.device).view(-1, 1, 1, 1), x.flip(-1), x)


class Draw(NamedTuple):
    """The random choices of one batch: offsets (N, 2) and mirrors (N,), None where off."""

    shifts: torch.Tensor | None = None
    flips: torch.Tensor | None = None


def draw(n: int, max_shift: int, flip: bool, gen: torch.Generator) -> Draw:
    """One batch's draws: the offsets first (nothing when max_shift is 0), then the mirrors (when on)."""
    shifts = draw_shifts(n, max_shift, gen) if max_shift > 0 else None
    return Draw(shifts, draw_flips(n, gen) if flip else None)


def apply(x: torch.Tensor, d: Draw) -> torch.Tensor:
    """``x`` shifted by ``d.shifts``, then mirrored where ``d.flips``."""
    if d.shifts is not None:
        x = shift_images(x, d.shifts)
    if d.flips is not None:
        x = flip_images(x, d.flips)
    return x
