"""The FF objective of one layer: how goodness is measured, the loss on it, and how negatives are drawn.

For the activations y (N units) of one layer and one labelled input:

    g = Σ y²             measure "sum"  (the paper: θ = s·N)
    g = Σ y² / N         measure "mean" (θ = s; the logit no longer grows with the layer's size)

Losses, averaged over the batch (α = ``goodness.scale``, y⁺ = true label, y⁻ = a wrong one):

    threshold  L = softplus(−α(g⁺ − θ)) + softplus(α(g⁻ − θ))      the paper (sum, α = 1)
    symba      L = softplus(−α(g⁺ − g⁻))                            SymBa (Lee & Song, arXiv 2303.08418):
                                                                    same image, true vs wrong label
    softmax    L = −log softmax_c(α·g_c)[y⁺]                          every label of the image at once

The goodness classifier predicts argmax_c Σ_l g_l(x, c), so ``symba`` and ``softmax`` train exactly
the comparison it makes; ``threshold`` trains each side against a fixed θ.

``relative`` (symba, softmax) divides the goodness by its detached mean over the compared labels of the
same image, ḡ: the logits become α(g⁺ − g⁻)/ḡ and α·g_c/ḡ. The margin is then relative, so one α fits
any activation scale (ReLU rates or spike rates), growing every layer's output no longer lowers the
loss, and what is trained is what survives the quantisation of spike counts: a relative margin.

Negatives (for threshold and symba):

    uniform    y⁻ ~ U{c ≠ y⁺}                                        the paper
    hard       P(y⁻ = c) ∝ exp(α Σ_l g_l(x, c)),  c ≠ y⁺             Hinton (2022): wrong labels in
                                                                    proportion to the model's belief
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..config import LOSSES, MEASURES, NEGATIVES  # noqa: F401  (the valid names, re-exported)


def layer_goodness(y: torch.Tensor, measure: str = "sum") -> torch.Tensor:
    """(B,) goodness of activations ``y`` (B, ...): Σ y² ("sum") or Σ y² / N ("mean")."""
    g = y.float().pow(2).flatten(1).sum(1)
    return g / y[0].numel() if measure == "mean" else g


def threshold_terms(g: torch.Tensor, sign: float, theta: float, scale: float = 1.0) -> torch.Tensor:
    """Mean of softplus(−sign·α(g − θ)): sign +1 for positives, −1 for negatives; 0 for an empty ``g``."""
    if not g.numel():
        return g.new_zeros(())
    return F.softplus(-sign * scale * (g - theta)).mean()


def symba_loss(
    g_pos: torch.Tensor, g_neg: torch.Tensor, scale: float, relative: bool = False
) -> torch.Tensor:
    """Mean of softplus(−α(g⁺ − g⁻)) over pairs (same image; ``g_neg`` may hold k negatives per row);
    ``relative``: α(g⁺ − g⁻)/ḡ with ḡ = (g⁺ + g⁻)/2, detached."""
    gp, gn = g_pos.view(len(g_pos), -1), g_neg.view(len(g_pos), -1)
    diff = gp - gn
    if relative:
        diff = diff / (0.5 * (gp + gn)).detach().clamp_min(1e-12)
    return F.softplus(-scale * diff).mean()


def softmax_loss(
    g_all: torch.Tensor, y: torch.Tensor, scale: float, relative: bool = False
) -> torch.Tensor:
    """Cross-entropy of the goodness of every label: ``g_all`` (B, C), true labels ``y`` (B,);
    ``relative``: logits α·g_c/ḡ with ḡ the image's mean over labels, detached."""
    if relative:
        g_all = g_all / g_all.mean(1, keepdim=True).detach().clamp_min(1e-12)
    return F.cross_entropy(scale * g_all, y)


def hard_negatives(
    scores: torch.Tensor, y: torch.Tensor, scale: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """One wrong label per row, drawn with P(c) ∝ exp(α·scores[c]) over c ≠ y; ``scores`` (B, C)."""
    logits = scale * scores.float().detach().cpu()
    logits[torch.arange(len(y)), y.cpu()] = float("-inf")
    probs = torch.softmax(logits - logits.max(1, keepdim=True).values, 1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(1).to(y.device)
