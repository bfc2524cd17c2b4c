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

Per-region goodness (``regions`` R > 1, measure mean): the loss compares g over each of the R × R
regions of the layer's maps separately (mean over regions), so every region must tell the labels
apart; the classifier still sums the whole layers' goodness, which deploys unchanged.

With k = ``negatives_per_image`` > 1 every image gets k distinct wrong labels (without replacement)
and SymBa averages softplus(−α(g⁺ − g⁻_j)) over the k pairs; the threshold loss averages the k
negative terms. ``hard_layers`` chooses the layers l of the hard law's Σ_l g_l (default: the
classifier's), so [1] scores with the first trained layer only, at a fraction of the cost.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..config import LOSSES, MEASURES, NEGATIVES  # noqa: F401  (the valid names, re-exported)


def layer_goodness(y: torch.Tensor, measure: str = "sum") -> torch.Tensor:
    """(B,) goodness of activations ``y`` (B, ...): Σ y² ("sum") or Σ y² / N ("mean")."""
    g = y.float().pow(2).flatten(1).sum(1)
    return g / y[0].numel() if measure == "mean" else g


def region_goodness(y: torch.Tensor, regions: int) -> torch.Tensor:
    """(B, R²) mean goodness of the R × R regions of activations ``y`` (B, C, H, W): the mean of y²
    over the channels and the pixels of each region (``adaptive_avg_pool2d``'s regions, which
    overlap by a pixel when R does not divide H). R = 1 gives ``layer_goodness(y, "mean")``."""
    return F.adaptive_avg_pool2d(y.float().pow(2), regions).mean(1).flatten(1)


def threshold_terms(g: torch.Tensor, sign: float, theta: float, scale: float = 1.0) -> torch.Tensor:
    """Mean of softplus(−sign·α(g − θ)): sign +1 for positives, −1 for negatives; 0 for an empty ``g``."""
    if not g.numel():
        return g.new_zeros(())
    return F.softplus(-sign * scale * (g - theta)).mean()


def symba_loss(
    g_pos: torch.Tensor, g_neg: torch.Tensor, scale: float, relative: bool = False
) -> torch.Tensor:
    """Mean of softplus(−α(g⁺ − g⁻)) over pairs (same image; ``g_neg`` may hold k negatives per image,
    image-major). ``g_pos`` (B,) or (B, R) with ``g_neg`` (k·B,) or (k·B, R): per-region goodness,
    compared region by region; ``relative``: α(g⁺ − g⁻)/ḡ with ḡ = (g⁺ + g⁻)/2, detached."""
    b, r = len(g_pos), g_pos[0].numel()
    gp, gn = g_pos.reshape(b, 1, r), g_neg.reshape(b, -1, r)
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
    scores: torch.Tensor,
    y: torch.Tensor,
    scale: float,
    generator: torch.Generator | None = None,
    k: int = 1,
) -> torch.Tensor:
    """Wrong labels drawn with P(c) ∝ exp(α·scores[c]) over c ≠ y; ``scores`` (B, C). One per row
    (B,) for ``k`` = 1; for k > 1, (B, k) distinct labels per row, drawn without replacement (each
    next one from the same law renormalised over the labels not yet drawn)."""
    logits = scale * scores.float().detach().cpu()
    logits[torch.arange(len(y)), y.cpu()] = float("-inf")
    probs = torch.softmax(logits - logits.max(1, keepdim=True).values, 1)
    if (
        k > 1
    ):  # labels whose probability underflowed to 0 stay drawable once the likely ones are taken
        probs = torch.where(torch.isinf(logits), 0.0, probs.clamp_min(1e-30))
    neg = torch.multinomial(probs, k, generator=generator)
    return (neg.squeeze(1) if k == 1 else neg).to(y.device)


def uniform_negatives(
    y: torch.Tensor, num_classes: int, k: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """(B, k) distinct wrong labels per row, uniform over c ≠ y (k = 1: use
    ``data.labels.sample_negatives``, the paper's draw)."""
    probs = torch.ones(len(y), num_classes)
    probs[torch.arange(len(y)), y.cpu()] = 0.0
    return torch.multinomial(probs, k, generator=generator).to(y.device)
