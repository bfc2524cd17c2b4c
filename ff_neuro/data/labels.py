"""Spatially-extended (Fourier) labels of Scodellaro et al., and the label inputs built from them.

Each class c owns a plane wave over the whole image,

    L_c(x, y) = 1/2 + 1/2 · cos(2π k_c (x cos θ_c + y sin θ_c) / W + φ_c)      ∈ [0, 1],

and a labelled input is the per-sample min-max rescaling of the mix

    x' = minmax((1 − K) · x + K · L_c),      x ∈ [0, 1], K = label share (default 0.35).

The frequencies and phases are not published; we choose (documented in docs/labels.md):
  * set 1: orientations 0°, 45°, 90°, 135° × k ∈ {3, 5, 8} cycles per image width, frequency-major
    order, the first 10 of the 12 patterns, phase 0;
  * set 2: k = 5 cycles per image, 10 orientations 0°, 18°, …, 162°, phase 0.
The neutral input, used by the linear head, mixes in the mean of the class patterns.

``labels.kind: onehot`` replaces the plane waves by a one-hot label patch (the ablation of docs/RESULTS.md):
L_c = 1 on a 2 × 2 square at rows 0–1 and columns 4 + 2c, 5 + 2c (the top border, which MNIST leaves
empty), 0 elsewhere; the mix and the neutral input are the same.
"""

from __future__ import annotations

import math

import torch

SET1_FREQUENCIES = (3.0, 5.0, 8.0)
SET1_ORIENTATIONS = (0.0, 45.0, 90.0, 135.0)
SET2_FREQUENCY = 5.0


def fourier_pattern(
    shape: tuple[int, int], k: float, theta_deg: float, phase: float = 0.0
) -> torch.Tensor:
    """One plane wave in [0, 1]; ``k`` cycles per image width along orientation ``theta_deg``."""
    h, w = shape
    yy, xx = torch.meshgrid(
        torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64), indexing="ij"
    )
    t = math.radians(theta_deg)
    return (
        0.5 + 0.5 * torch.cos(2 * math.pi * k * (xx * math.cos(t) + yy * math.sin(t)) / w + phase)
    ).float()


def fourier_label_params(label_set: int, num_classes: int = 10) -> list[tuple[float, float]]:
    """(k, θ) of every class for label set 1 or 2."""
    if label_set == 1:
        params = [(k, th) for k in SET1_FREQUENCIES for th in SET1_ORIENTATIONS]
    elif label_set == 2:
        params = [(SET2_FREQUENCY, 180.0 * i / num_classes) for i in range(num_classes)]
    else:
        raise ValueError(f"label set must be 1 or 2, got {label_set}")
    if num_classes > len(params):
        raise ValueError(
            f"label set {label_set} has only {len(params)} patterns, {num_classes} needed"
        )
    return params[:num_classes]


def onehot_pattern(shape: tuple[int, int], c: int) -> torch.Tensor:
    """The one-hot label patch of class ``c``: ones on rows 0–1, columns 4 + 2c and 5 + 2c."""
    h, w = shape
    col = 4 + 2 * c
    if col + 2 > w or h < 2:
        raise ValueError(f"a {h}×{w} image has no room for the one-hot patch of class {c}")
    p = torch.zeros(h, w)
    p[0:2, col : col + 2] = 1.0
    return p


LABEL_KINDS = ("fourier", "onehot")


def minmax(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Per-sample rescaling of (N, ...) to [0, 1]."""
    flat = x.flatten(1)
    lo, hi = flat.min(1, keepdim=True).values, flat.max(1, keepdim=True).values
    return ((flat - lo) / (hi - lo).clamp_min(eps)).view_as(x)


class FourierLabels:
    """Label encoder: overlays class patterns on (N, 1, H, W) images in [0, 1]."""

    def __init__(
        self,
        shape: tuple[int, int] = (28, 28),
        num_classes: int = 10,
        label_set: int = 1,
        K: float = 0.35,
        device: torch.device | str = "cpu",
        kind: str = "fourier",
    ):
        if not 0.0 <= K <= 1.0:
            raise ValueError(f"label share K must lie in [0, 1], got {K}")
        if kind not in LABEL_KINDS:
            raise ValueError(f"label kind must be one of {list(LABEL_KINDS)}, got {kind!r}")
        self.shape, self.num_classes, self.label_set, self.K, self.kind = (
            tuple(shape),
            num_classes,
            label_set,
            K,
            kind,
        )
        if kind == "fourier":
            self.params = fourier_label_params(label_set, num_classes)
            pats = [fourier_pattern(self.shape, k, th) for k, th in self.params]
        else:
            self.params = []
            pats = [onehot_pattern(self.shape, c) for c in range(num_classes)]
        self.patterns = torch.stack(pats).to(device)

    @classmethod
    def from_config(cls, lc, shape, num_classes: int = 10, device="cpu") -> FourierLabels:
        """The encoder of a ``LabelConfig`` (kind, set, K)."""
        return cls(tuple(shape), num_classes, lc.set, lc.K, device, lc.kind)

    def meta(self) -> dict:
        """What a saved spiking spec records to rebuild this encoder (``spiking.network.labels_for``)."""
        return {
            "kind": self.kind,
            "set": self.label_set,
            "K": self.K,
            "num_classes": self.num_classes,
        }

    def to(self, device: torch.device | str) -> FourierLabels:
        self.patterns = self.patterns.to(device)
        return self

    @property
    def neutral_pattern(self) -> torch.Tensor:
        return self.patterns.mean(0)

    def mix(self, x: torch.Tensor, pattern: torch.Tensor) -> torch.Tensor:
        """minmax((1 − K)·x + K·pattern); ``pattern`` broadcasts to x's (N, 1, H, W)."""
        return minmax((1 - self.K) * x + self.K * pattern.to(x.dtype))

    def overlay(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Images ``x`` (N, 1, H, W) labelled with classes ``y`` (N,)."""
        return self.mix(x, self.patterns[y].unsqueeze(1))

    def neutral(self, x: torch.Tensor) -> torch.Tensor:
        """Images with the neutral (class-mean) pattern: the linear head's input."""
        return self.mix(x, self.neutral_pattern)

    def all_labels(self, x: torch.Tensor) -> torch.Tensor:
        """(N·C, 1, H, W): every image with every label, sample-major (row n·C + c is label c)."""
        n = x.shape[0]
        xs = x.repeat_interleave(self.num_classes, 0)
        ys = torch.arange(self.num_classes, device=x.device).repeat(n)
        return self.overlay(xs, ys)


def sample_negatives(
    y: torch.Tensor, num_classes: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """A uniformly drawn wrong class for every label: (y + U{1..C−1}) mod C, never y itself."""
    shift = torch.randint(1, num_classes, y.shape, generator=generator, device="cpu").to(y.device)
    return (y + shift) % num_classes
