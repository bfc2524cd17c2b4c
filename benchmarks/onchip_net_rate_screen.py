"""Screen the on-chip rule's α and learning rate for the whole conv network on its rate-coded twin.

``ff-neuro learn RUN --layers all`` trains every trained conv layer by the on-chip rule; its
rate-coded twin (``--rate``: the same layers, init, θ, α, learning rate and schedule, counts replaced
by T × rates) costs under 1 ms per window, so it is where α and k are screened. Each grid point
trains the twin on ``--samples`` training images and scores goodness (the run's goodness layers) on
``--test`` images of the **validation** split at ``--points`` points; the test split is not touched.
Writes JSON. Not a timed test.

    .venv/bin/python benchmarks/onchip_net_rate_screen.py --run runs/quick10cl --samples 20000 \
        --grid 256,19 256,20 256,21 --out benchmarks/results/onchip_net_rate_screen.json

A grid item is ``α,k[,post[,d[,S1/S2/…[,m[,w[,c]]]]]]``: post ``gated`` (p = c·[c < T], the default)
or ``count`` (p = c, ``--post-factor``), d the ``--decay-shift`` (0: off), S1/S2/… the samples from
which the learning rate halves (``--lr-steps``; empty: none), m a gate margin for the twin, p =
c·[c < T − m] on its exact counts c = T·a (0, the default: the exact gate; a diagnosis of what the
spiking network's ``--saturation-margin`` costs by itself), and w the twin's weights: ``float``
(the default) or ``wF``, kept on the chip's fixed-point lattice (8 bits plus F low bits, ``w0``: the
chip's plain 8-bit weights; stochastic rounding of every update, ``rule.lattice_add``: a diagnosis
of what the chip's weight arithmetic costs apart from its spike counts), and c the twin's counts:
``exact`` (T·r, the default) or ``floor`` (⌊T·r⌋ in every layer, the next layer driven by those
counts: a diagnosis of what integer spike counts cost). ``--samples`` above the 50,000 training
images passes the set again, each pass in a fresh order.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def screen_point(
    run: Path,
    alpha: float,
    k: int,
    a,
    post: str = "gated",
    decay: int = 0,
    steps: tuple = (),
    margin: int = 0,
    lattice_bits: int | None = None,
    counts: str = "exact",
) -> dict:
    from ff_neuro.onchip import rule
    from ff_neuro.onchip.conv_experiment import setup_network
    from ff_neuro.onchip.conv_learn import _initial, train_reference
    from ff_neuro.onchip.conv_scoring import NetTestSet
    from ff_neuro.onchip.experiment import LearnConfig

    cfg = LearnConfig(
        backend="reference",
        samples=a.samples,
        batch=a.batch,
        test_samples=a.test,
        points=a.points,
        alpha=alpha,
        lr_shift=k,
        decay_shift=decay,
        saturation_gate=post == "gated",
        layers="all",
        objective=a.objective,
        negatives=a.negatives,
        split="val",
        chunk=50,
        seed=a.seed,
        lr_steps=steps,
    )
    t0 = time.perf_counter()
    s = setup_network(run, cfg)
    # the twin's diagnoses: the spiking gate c·[c < T − m] on its exact counts c = T·a; its weights
    # on the chip's lattice with f low bits; its counts floored
    over = {"saturation_margin": margin} if margin else {}
    if lattice_bits is not None:
        over["frac_bits"] = lattice_bits
    twin = [pl._replace(params=pl.params._replace(**over)) for pl in s.rate_net.plastic]
    for pl in twin:
        rule.check_params(pl.params)  # m < T, f < k
    s = s._replace(
        rate_net=s.rate_net._replace(
            plastic=twin,
            weight_lattice=lattice_bits is not None,
            integer_counts=counts == "floor",
        )
    )
    test = NetTestSet(s, cfg.test_samples, "rate", split="val")
    before = test.accuracy(_initial(s, "rate"))
    _, curve, secs = train_reference(s, cfg, "rate", test, None)
    return {
        "alpha": alpha,
        "lr_shift": k,
        "post_factor": post,
        "decay_shift": decay,
        "lr_steps": list(steps),
        "twin_margin": margin,
        "twin_weights": "float" if lattice_bits is None else f"lattice, 8 + {lattice_bits} bits",
        "twin_counts": counts,
        "val_goodness_before": before["network"],
        "curve": [
            {
                "samples": c["samples"],
                "lr_shift": c["lr_shift"],
                "val_goodness": c["network"],
                "layers": c["layers"],
                "activity": c["activity"],
                "weights": c["weights"],
            }
            for c in curve
        ],
        "train_seconds": round(secs, 2),
        "wall_seconds": round(time.perf_counter() - t0, 2),
    }


def main() -> None:
    from ff_neuro.io import atomic_write_json
    from ff_neuro.runtime import measurement_stamp

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", required=True)
    ap.add_argument("--samples", type=int, default=20000)
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--test", type=int, default=1000, help="validation images scored")
    ap.add_argument("--points", type=int, default=4)
    ap.add_argument("--objective", default="symba", choices=["threshold", "symba"])
    ap.add_argument("--negatives", default="hard", choices=["uniform", "hard"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--grid", nargs="+", default=["256,19", "256,20", "256,21"], help="α,k pairs")
    ap.add_argument("--out", default="benchmarks/results/onchip_net_rate_screen.json")
    a = ap.parse_args()
    rows = []
    for item in a.grid:
        fields = item.split(",")
        if not 2 <= len(fields) <= 8:
            ap.error(f"grid item {item!r}: α,k[,post[,d[,S1/S2/…[,m[,w[,c]]]]]]")
        defaults = ["gated", "0", "", "0", "float", "exact"]
        alpha, k, post, decay, steps, margin, weights, counts = fields + defaults[len(fields) - 2 :]
        if counts not in ("exact", "floor"):
            ap.error(f"grid item {item!r}: the twin's counts are exact or floor")
        if post not in ("gated", "count"):
            ap.error(f"grid item {item!r}: the post factor is gated or count")
        if weights != "float" and not (weights[:1] == "w" and weights[1:].isdigit()):
            ap.error(f"grid item {item!r}: the twin's weights are float or wF (F low bits)")
        try:
            steps = tuple(int(v) for v in steps.split("/") if v)
            lattice = None if weights == "float" else int(weights[1:])
            point = (float(alpha), int(k), a, post, int(decay), steps, int(margin), lattice, counts)
        except ValueError:
            ap.error(f"grid item {item!r}: α a number; k, d, S1/S2/… and m integers")
        if point[-3] < 0:
            ap.error(f"grid item {item!r}: the twin's margin m is ≥ 0")
        rows.append(screen_point(Path(a.run), *point))
        for c in rows[-1]["curve"]:
            print(
                f"α {alpha}, k {k}, {post}, d {decay}, steps {steps}, m {margin}, {weights}, {counts}: "
                f"validation goodness "
                f"{100 * c['val_goodness']:.1f} % after {c['samples']} images (k {c['lr_shift']})",
                flush=True,
            )
    settings = {k: v for k, v in vars(a).items() if k not in ("grid", "out")}
    atomic_write_json(a.out, {"settings": settings, **measurement_stamp(), "results": rows})
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
