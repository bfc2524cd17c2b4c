"""Stage 1: load MNIST, build Fourier label inputs, and draw them.

    python examples/01_data_and_labels.py [OUT_DIR]       (default /tmp/ff_neuro_examples)

Loads the cached dataset (set FF_NEURO_NO_MIRRORS=1 offline), overlays positive, negative and
neutral labels on a few images, and saves the label gallery PNGs. Runs in seconds on a CPU.
"""

import sys
from pathlib import Path

import torch

from ff_neuro.analysis import plot_label_overlay, plot_label_patterns
from ff_neuro.data import FourierLabels, load_dataset, sample_negatives

out = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/ff_neuro_examples")
data = load_dataset("mnist")  # 50k train / 10k val / 10k test, uint8 (N, 28, 28)
print(
    f"train {len(data.train)}  val {len(data.val)}  test {len(data.test)}  classes {data.class_names}"
)

labels = FourierLabels((28, 28), num_classes=10, label_set=1, K=0.35)
x = torch.from_numpy(data.test.x[:4]).unsqueeze(1).float() / 255  # (4, 1, 28, 28) in [0, 1]
y = torch.from_numpy(data.test.y[:4])
neg = sample_negatives(y, 10, torch.Generator().manual_seed(0))  # a wrong class for every image
pos_in, neg_in = labels.overlay(x, y), labels.overlay(x, neg)  # minmax((1-K)x + K L_c)
print(
    f"labels {y.tolist()}, negatives {neg.tolist()}, input range [{pos_in.min():.2f}, {pos_in.max():.2f}]"
)
print(f"all-label batch for goodness classification: {tuple(labels.all_labels(x).shape)}")

print(plot_label_patterns(labels, out / "label_patterns.png", data.class_names))
print(
    plot_label_overlay(
        labels, x[0, 0], int(y[0]), int(neg[0]), out / "label_overlay.png", data.class_names
    )
)
