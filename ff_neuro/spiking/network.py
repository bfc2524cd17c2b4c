"""A :class:`SpikingNetSpec` made runnable in torch: spike trains, counts, goodness and linear readouts.

Evaluation batches are cut so that T · batch ≤ ``max_batch_steps`` (memory). Rate encoding draws
from the generator passed in (or a fresh one seeded with ``seed``), so results are reproducible.
"""

from __future__ import annotations

import torch

from ..data.labels import FourierLabels
from .encoding import check_encoding, check_timesteps, encode
from .lif import LIFParams
from .readout import goodness_score, spike_features
from .simulate import simulate_layers
from .spec import SpikingNetSpec


def spec_input(
    spec: SpikingNetSpec, x_labelled: torch.Tensor, generator: torch.Generator | None = None
) -> torch.Tensor:
    """(T, N, C, H, W) layer-0 input of labelled images in [0, 1]: ``encode`` with the spec's T and encoding."""
    return encode(x_labelled, spec.timesteps, spec.encoding, generator)


def torch_layers(spec: SpikingNetSpec, device: torch.device | str = "cpu") -> list[dict]:
    """The spec's layers as keyword arguments of :func:`simulate_layer` (tensors on ``device``)."""
    return [
        dict(
            weight=torch.as_tensor(layer.weight, dtype=torch.float32, device=device),
            bias=torch.as_tensor(layer.bias, dtype=torch.float32, device=device),
            stride=int(layer.stride),
            padding=int(layer.padding),
            p=LIFParams(float(layer.beta), float(layer.threshold), str(layer.reset)),
            rms_input=bool(layer.rms_input),
        )
        for layer in spec.layers
    ]


@torch.no_grad()
def simulate_spec(spec: SpikingNetSpec, inputs: torch.Tensor) -> list[torch.Tensor]:
    """Per-layer spike trains (T, B, C, H, W) of {0., 1.} for the encoded layer-0 ``inputs`` (T, B, C, H, W)."""
    check_timesteps(int(inputs.shape[0]))
    return simulate_layers(torch_layers(spec, inputs.device), inputs.float())


def labels_for(spec: SpikingNetSpec, device: torch.device | str = "cpu") -> FourierLabels:
    lab = spec.meta.get("labels", {})
    shape = tuple(spec.meta.get("in_shape", spec.layers[0].in_shape))[1:]
    return FourierLabels(
        shape,
        lab.get("num_classes", 10),
        lab.get("set", 1),
        lab.get("K", 0.35),
        device,
        lab.get("kind", "fourier"),
    )


class SpikingNetwork:
    """Runs a spec on ``device``: ``spike_counts``, ``goodness_scores``, ``predict_linear``, ``predict_goodness``."""

    def __init__(
        self,
        spec: SpikingNetSpec,
        device: torch.device | str = "cpu",
        seed: int = 0,
        max_batch_steps: int = 256,
    ):
        check_timesteps(spec.timesteps)
        check_encoding(spec.encoding)
        self.spec, self.device, self.seed = spec, torch.device(device), seed
        self.T, self.max_batch_steps = spec.timesteps, max_batch_steps
        self.layers = torch_layers(spec, self.device)
        self.labels = labels_for(spec, self.device)
        self.num_classes = self.labels.num_classes
        self.act_scales = [float(layer.act_scale) for layer in spec.layers]
        self.head = None
        if spec.head_weight is not None:
            self.head = torch.nn.Linear(spec.head_weight.shape[1], spec.head_weight.shape[0]).to(
                self.device
            )
            self.head.weight.data = torch.as_tensor(
                spec.head_weight, dtype=torch.float32, device=self.device
            )
            self.head.bias.data = torch.as_tensor(
                spec.head_bias, dtype=torch.float32, device=self.device
            )
        self.generator = torch.Generator().manual_seed(seed)

    @property
    def chunk(self) -> int:
        return max(1, self.max_batch_steps // self.T)

    @torch.no_grad()
    def spike_trains(
        self, x_labelled: torch.Tensor, generator: torch.Generator | None = None
    ) -> list[torch.Tensor]:
        """Per-layer spike trains (T, N, C, H, W) of labelled images (one batch, no chunking)."""
        inputs = encode(
            x_labelled.to(self.device).float(),
            self.T,
            self.spec.encoding,
            generator or self.generator,
        )
        return simulate_layers(self.layers, inputs)

    def chunk_counts(self, x_labelled: torch.Tensor, generator: torch.Generator | None = None):
        """Per-layer spike counts chunk by chunk (T · chunk ≤ ``max_batch_steps`` image-steps each),
        in order: every reader sees the same chunks and random draws."""
        for i in range(0, x_labelled.shape[0], self.chunk):
            yield [s.sum(0) for s in self.spike_trains(x_labelled[i : i + self.chunk], generator)]

    @torch.no_grad()
    def spike_counts(
        self, x_labelled: torch.Tensor, generator: torch.Generator | None = None
    ) -> list[torch.Tensor]:
        """Per-layer spike counts (N, C, H, W) over the window of T steps, for labelled images (N, C, H, W)."""
        return [torch.cat(p) for p in zip(*self.chunk_counts(x_labelled, generator))]

    @torch.no_grad()
    def goodness_scores(self, x: torch.Tensor) -> torch.Tensor:
        """(N, classes) spike-count goodness of images x (N, 1, H, W) under every label (batched over N·C).
        Each chunk is reduced to its scores at once: the counts of all N·C inputs are never held."""
        loss, measure = self.spec.loss_layers, self.spec.meta.get("goodness_measure", "sum")
        xl = self.labels.all_labels(x.to(self.device))
        g = [
            goodness_score(counts, self.T, loss, self.act_scales, measure)
            for counts in self.chunk_counts(xl)
        ]
        return torch.cat(g).view(x.shape[0], self.num_classes)

    @torch.no_grad()
    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Linear-head features of the neutral-label input (RMS-normalised rates of the readout layers)."""
        return spike_features(
            self.spike_counts(self.labels.neutral(x.to(self.device))),
            self.T,
            self.spec.readout_layers,
        )

    @torch.no_grad()
    def predict_linear(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)).argmax(1)

    @torch.no_grad()
    def predict_goodness(self, x: torch.Tensor) -> torch.Tensor:
        return self.goodness_scores(x).argmax(1)
