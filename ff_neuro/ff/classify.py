"""The two classifiers: a linear head on neutral-label features, and goodness over all labels."""

from __future__ import annotations

import torch
from torch import nn

from ..data.labels import FourierLabels
from .network import FFNet


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
