"""Stage 4: run the spiking network on Lava (float and fixed point) and compare with the other models.

    python examples/04_lava_deploy.py [RUN_DIR]       (default /tmp/ff_neuro_examples/run, from example 02)

Deploys a few test images on Lava's CPU simulation: float, then fixed point under the Loihi 2
profile. Prints the agreement with the reference simulation and the cost estimate, then writes
RUN_DIR/compare.json (rate vs snnTorch vs Lava float vs Lava fixed). A few minutes on a 2-core CPU:
Lava simulates every time step as message passing between processes, so the sample counts stay small.
"""

import sys
from pathlib import Path

import torch

from ff_neuro.data import load_dataset
from ff_neuro.lava.deploy import deploy_run
from ff_neuro.pipeline import compare_run

run_dir = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/ff_neuro_examples/run")
torch.set_num_threads(2)
data = load_dataset("mnist")

for fixed in (False, True):
    m = deploy_run(run_dir, profile="loihi2", samples=3, fixed_point=fixed, dataset=data)
    print(
        f"Lava {'fixed point' if fixed else 'float'}: accuracy {m['accuracy']}, agreement {m['agreement']}, "
        f"energy/inference {m['energy_per_inference_j']} J, cores {m['cores_used']}, fits {m['fits']}"
    )
# deploy_metrics.json now holds the last (fixed-point) deployment

cmp = compare_run(run_dir, samples=3, dataset=data)  # writes RUN_DIR/compare.json
for row in cmp["rows"]:
    print(
        f"{row['model']:>10}: linear {row['acc_linear']}, goodness {row['acc_goodness']} ({row['samples']} images)"
    )
for profile, cost in cmp["cost_by_profile"].items():
    print(f"{profile:>10}: {cost}")
