"""The Forward-Forward equations, as pure functions on tensors.

    rms_norm(y) = y / sqrt(mean(y²) + ε)      over all C·H·W units of one sample
    G(y)        = Σ y²                        goodness of one sample in one layer
    θ           = s · N                       threshold, N = number of units, s = 1 in the paper
    loss        = softplus(−(G⁺ − θ)) + softplus(G⁻ − θ)     (mean over the batch)

Activations (``model.activation``), z = the layer's input, λ = ``model.activation_scale``:
    relu        a = max(z, 0)                                  the paper
    relu1       a = λ · min(max(z/λ, 0), 1)                    rate (× λ) of an IF neuron with reset by
                                                               subtraction, threshold 1 (spikes per step)
    ifzero      a = λ · ψ(z/λ), ψ(u) = u/(1 + u) for u > 0     rate (× λ) of the IF neuron with reset to zero
                                                               (Lava's LIF, du = 1, dv = 0, vth = 1) driven
                                                               by spikes, as measured (docs/spiking.md); for
                                                               a constant current its staircase
                                                               1/(⌊1/z⌋ + 1) touches it at z = 1/n
The bounded activations make the rate model the T → ∞ limit of its spiking network: the current of
layer l is z_l/λ and its rate a_l/λ, so conversion is exact up to the known λ (``docs/spiking.md``).
λ → ∞ recovers ReLU; λ = 1 puts the weights in spike units.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

EPS = 1e-8


def rms_norm(y: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    """Length normalisation without mean subtraction, per sample over all non-batch dims."""
    dims = tuple(range(1, y.dim()))
    n = y[0].numel()
    sq = torch.linalg.vector_norm(y, dim=dims, keepdim=True).square()  # one pass over y: Σ y²
    return y * torch.rsqrt(sq / n + eps)


def activation(z: torch.Tensor, kind: str = "relu", scale: float = 1.0) -> torch.Tensor:
    """The layer's rate function (see the module docstring): relu | relu1 | ifzero, with scale λ."""
    if kind == "relu":
        return torch.relu(z)
    if kind == "relu1":
        return z.clamp(0.0, scale)
    zp = torch.relu(z)
    return zp / (1.0 + zp / scale)


def count_noise(a: torch.Tensor, scale: float, T: int, gen: torch.Generator) -> torch.Tensor:
    """Spike-count quantisation in training (``model.train_timesteps``): the rate r = a/λ ∈ [0, 1] becomes
    q = ⌊T·r + U⌋ / T, U ~ U[0, 1) per unit (unbiased stochastic rounding to a count over T steps), and
    a ← λ·q in the forward pass with the gradient of a (straight-through). The goodness then sees the
    quantisation a T-step spiking network imposes, so training widens margins that survive it."""
    u = torch.rand(a.shape, generator=gen, device=gen.device, dtype=torch.float32).to(
        a.device, a.dtype
    )
    q = torch.floor(a.detach() / scale * T + u) * (scale / T)
    return a + (q - a.detach())


def goodness(y: torch.Tensor) -> torch.Tensor:
    """G = Σ y² per sample: (N, ...) → (N,)."""
    return y.pow(2).flatten(1).sum(1)


def ff_loss(g_pos: torch.Tensor, g_neg: torch.Tensor, theta: float) -> torch.Tensor:
    """Mean of softplus(−(G⁺−θ)) over positives plus mean of softplus(G⁻−θ) over negatives."""
    return F.softplus(theta - g_pos).mean() + F.softplus(g_neg - theta).mean()


def ff_loss_terms(g_pos: torch.Tensor, g_neg: torch.Tensor, theta: float) -> torch.Tensor:
    """:func:`ff_loss` where either side may be empty (it then contributes 0): lets positives and
    negatives be processed in separate passes whose losses add up to ``ff_loss``."""
    pos = F.softplus(theta - g_pos).mean() if g_pos.numel() else g_pos.new_zeros(())
    neg = F.softplus(g_neg - theta).mean() if g_neg.numel() else g_neg.new_zeros(())
    return pos + neg
