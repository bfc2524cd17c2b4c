"""The two classifiers: a linear head on neutral-label features, and goodness over all labels."""

from __future__ import annotations

import torch
from torch import nn

from ..data.labels import FourierLabels
from .network import FFNet
from .objective import layer_goodness


class LinearHead(nn.Module):
    """Softmax classifier on the detached, RMS-normalised activations of the readout layers."""

    def __init__(self, in_features: int, num_classes: int = 10):
        super().__init__()
        self.fc = nn.Linear(in_features, num_classes)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.fc(features)


@torch.no_grad()
def goodness_scores(net: FFNet, labels: FourierLabels, x: torch.Tensor) -> torch.Tensor:
    """(N, C) goodness of every image under every label, as one batched pass over N·C inputs."""
    return net.goodness_score(net(labels.all_labels(x))).view(x.shape[0], labels.num_classes)


@torch.no_grad()
def label_scores(
    net: FFNet, labels: FourierLabels, x: torch.Tensor, layers: list[int], fmt=None
) -> torch.Tensor:
    """(N, C) Σ_{l ∈ layers} g_l of every image under every label; the pass stops at max(layers)
    (``[1]``: scoring with the first trained layer only). ``fmt`` maps the labelled input to the
    memory format of the layers. With ``layers`` = the score layers this is :func:`goodness_scores`."""
    h = labels.all_labels(x)
    acts = net(fmt(h) if fmt else h, upto=max(layers))
    g = sum(layer_goodness(acts[i], net.measure) for i in layers)
    return g.view(x.shape[0], labels.num_classes)
