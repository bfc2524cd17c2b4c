"""Which client convention costs what: an NIR export run in norse, snnTorch and sinabs variants.

    .venv/bin/python benchmarks/nir_conventions.py --run runs/quick-sub5k --samples 100
        # → benchmarks/results/nir_conventions.json

Exports the run's spec as NIR (``export_spec``, into --out, default a temporary folder), runs the first
--samples test images under the neutral label and under every label through each variant, and compares
the per-neuron spike counts with ff_neuro's simulation of the file (``simulate_spec`` of
``spec_from_nir``); goodness as ``clients.json`` computes it (``verify.goodness_row``). Variants:

  * norse: ``norse_from_nir`` (the shim), and ``norse.torch.from_nir`` as it comes;
  * snnTorch: ``snntorch_from_nir`` (the shim: ``subtract_leaky``), and snnTorch's own
    ``Leaky(reset_mechanism="subtract")`` with ``reset_delay=True`` (its default) and ``False``;
  * sinabs: as it comes, then the conventions of ``sinabs_from_nir`` changed cumulatively
    (single spike; strict v > θ; no v floor; the node's reset).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import nir
import torch

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def variants():
    from ff_neuro.hardware.clients import run_norse, run_sinabs, run_snntorch
    from ff_neuro.hardware.nir_graph import stock_subtract_leaky

    return {
        "norse: norse_from_nir (shim)": run_norse,
        "norse: norse.torch.from_nir as it comes": partial(run_norse, shim=False),
        "snntorch: snntorch_from_nir (shim)": run_snntorch,
        "snntorch: stock Leaky subtract, reset_delay=True": partial(
            run_snntorch, subtract=stock_subtract_leaky
        ),
        "snntorch: stock Leaky subtract, reset_delay=False": partial(
            run_snntorch, subtract=partial(stock_subtract_leaky, reset_delay=False)
        ),
        "sinabs: as it comes": run_sinabs,
        "sinabs: + single spike (v >= θ)": partial(run_sinabs, aligned={"single_spike"}),
        "sinabs: + strict (v > θ)": partial(run_sinabs, aligned={"strict"}),
        "sinabs: + no v floor (= sinabs-aligned)": partial(
            run_sinabs, aligned={"strict", "no_floor", "reset"}
        ),
        "sinabs: no v floor only": partial(run_sinabs, aligned={"no_floor"}),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--run", required=True)
    ap.add_argument("--samples", type=int, default=100)
    ap.add_argument("--timesteps", type=int, default=None)
    ap.add_argument("--out", default=None, help="export folder (default: a temporary one)")
    ap.add_argument("--json", default=str(RESULTS / "nir_conventions.json"))
    args = ap.parse_args(argv)

    from ff_neuro.ff.run import open_run
    from ff_neuro.hardware.clients import count_agreement
    from ff_neuro.hardware.evaluate import encoded
    from ff_neuro.hardware.export import export_spec
    from ff_neuro.hardware.nir_graph import spec_from_nir
    from ff_neuro.hardware.verify import goodness_row, identical_samples, simulate_counts
    from ff_neuro.spiking.network import labels_for
    from ff_neuro.spiking.store import run_spec

    run = open_run(args.run)
    spec, _ = run_spec(run, args.timesteps)
    labels = labels_for(spec)
    x, y = run.test_tensors(args.samples)
    y = y.numpy()
    with tempfile.TemporaryDirectory(prefix="ff_neuro_nir_") as tmp:
        out = Path(args.out or tmp)
        path = export_spec(spec, "ideal", out, "nir", run.cfg.data.dataset)[0]
        graph = nir.read(str(path))
        file_spec = spec_from_nir(graph, spec)
        neutral = encoded(spec, labels.neutral(x))
        labelled = encoded(spec, labels.all_labels(x))
        ref, ref_lab = simulate_counts(file_spec, neutral), simulate_counts(file_spec, labelled)
        rows = {}
        for name, runner in variants().items():
            t0 = time.perf_counter()
            got = runner(graph, neutral)
            row = {
                "spike_count_agreement": count_agreement(got, ref),
                "identical_images": identical_samples(got, ref),
                "differing_counts": int(sum((a != b).sum() for a, b in zip(got, ref))),
            }
            lab = runner(graph, labelled)
            row["labels_differing_counts"] = int(sum((a != b).sum() for a, b in zip(lab, ref_lab)))
            row.update(goodness_row(spec, lab, ref_lab, y, labels.num_classes))
            row["seconds"] = round(time.perf_counter() - t0, 1)
            rows[name] = row
            print(f"{name:52s} " + "  ".join(f"{k} {v:.6g}" for k, v in row.items()), flush=True)
    res = {
        "run": args.run,
        "samples": args.samples,
        "timesteps": spec.timesteps,
        "resets": sorted({layer.reset for layer in spec.layers}),
        "neurons_per_image": int(sum(r[0].size for r in ref)),
        "rows": rows,
        "torch_threads": torch.get_num_threads(),
        "loadavg": os.getloadavg(),
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join([".venv/bin/python", *sys.argv]),
    }
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(res, indent=1))
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
