"""``ff-neuro learn``: FF learning on the simulated chip (docs/onchip.md): one dense layer on the
frozen spike features of a run, or (``--layers all``) every trained conv layer in one Lava graph."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import int_at_least, pct, print_table


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "learn",
        help="train one FF layer on spike counts inside Lava (or the reference)",
        description="Train a dense FF layer on the spikes of a trained run's frozen layers "
        "0..L with the three-factor FF rule (docs/onchip.md), on Lava or on the "
        "PyTorch reference, and score goodness from spike counts on test images "
        "before and after. Writes RUN_DIR/learn_metrics.json, learn_curve.png "
        "and learn_metrics_weights.npz.",
    )
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument(
        "--backend",
        default="reference",
        choices=["lava", "reference"],
        help="lava: the Lava graph, one update per window, checked against the reference "
        "(weights_bit_identical); reference: PyTorch (default)",
    )
    p.add_argument(
        "--layer",
        type=int_at_least(0),
        default=0,
        help="last frozen layer L: its spikes feed the learning layer (default 0)",
    )
    p.add_argument(
        "--samples",
        type=int_at_least(1),
        default=1000,
        help="training images; each gives a positive and a negative window (default 1000)",
    )
    p.add_argument(
        "--profile",
        default="loihi2",
        help="fixed-point profile (loihi2, loihi: integer rule) or a float one (ideal)",
    )
    p.add_argument(
        "--hidden", type=int_at_least(1), default=256, help="neurons of the learning layer"
    )
    p.add_argument(
        "--batch",
        type=int_at_least(1),
        default=1,
        help="reference only: windows per update (1 = the Lava rule exactly; >1 = batched mode)",
    )
    p.add_argument(
        "--test-samples",
        type=int_at_least(1),
        default=1000,
        help="test images scored under every label (default 1000)",
    )
    p.add_argument("--points", type=int_at_least(1), default=8, help="points of the learning curve")
    p.add_argument("--alpha", type=float, default=256.0, help="logit scale α (default 256)")
    p.add_argument(
        "--lr-shift",
        type=int_at_least(1, 40),
        default=19,
        help="learning rate 2^-k in the integer rule (default 19)",
    )
    p.add_argument("--z-std", type=float, default=0.5, help="init: std of W·r in threshold units")
    p.add_argument(
        "--headroom",
        type=float,
        default=8.0,
        help="fixed point: the weight range holds ±headroom·σ of the init (default 8)",
    )
    p.add_argument(
        "--frac-bits",
        type=int_at_least(0, 16),
        default=0,
        help="fixed point: extra low bits of each learned weight that the synapse does not "
        "transmit (a Loihi-style tag; default 0 = the profile's weight width only)",
    )
    p.add_argument(
        "--decay-shift",
        type=int_at_least(0, 40),
        default=0,
        help="weight decay: every update also shrinks each weight by 2^-d (one rounding with the "
        "update; Loihi: the learning engine's term -2^-d·w); default 0 = off",
    )
    p.add_argument(
        "--post-factor",
        default="gated",
        choices=["gated", "count"],
        help="gated: p = c·[c < T], relu1's derivative (default); count: p = c, so a saturated "
        "neuron still learns (straight-through; on Loihi the bare post trace)",
    )
    p.add_argument(
        "--saturation-margin",
        type=int_at_least(0, 1000),
        default=0,
        help="gated post factor of the spiking neurons: a count of at least T - m counts as "
        "saturated, p = c·[c < T - m] (default 0; the rate-coded twin keeps the exact gate). An "
        "IF neuron driven at threshold mostly fires T-1 or T-2 times (docs/onchip.md)",
    )
    p.add_argument(
        "--lr-steps",
        type=sample_counts,
        default=(),
        metavar="S1,S2,...",
        help="--layers all: the learning rate halves (k += 1) from each of these training samples "
        "on, e.g. 50000,100000 with --samples 150000 (three passes over the 50,000 training "
        "images, each in a fresh order); on a chip the host rewrites the rule's shift",
    )
    p.add_argument("--rounding", default="stochastic", choices=["stochastic", "nearest"])
    p.add_argument(
        "--rate",
        action="store_true",
        help="also train the rate-coded FF layer on the same schedule (float)",
    )
    p.add_argument(
        "--layers",
        default="one",
        choices=["one", "all"],
        help="one: a dense FF layer on frozen layer L (default); all: every trained conv layer "
        "of the run learns (plastic shared kernels), the frozen layers run in the same Lava graph",
    )
    p.add_argument(
        "--objective",
        default="threshold",
        choices=["threshold", "symba"],
        help="--layers all: threshold softplus(-s·α(G-θ)) per window, or SymBa's pairwise "
        "softplus(-α(G+ - G-)) per positive/negative pair",
    )
    p.add_argument(
        "--negatives",
        default="uniform",
        choices=["uniform", "hard"],
        help="--layers all: uniformly drawn wrong labels, or hard negatives drawn on the chip "
        "∝ exp(α_h·G) after scoring every label (C extra windows per sample)",
    )
    p.add_argument(
        "--hard-alpha",
        type=float,
        default=128.0,
        help="α_h of the hard-negative draw on the mean goodness in spike units (default 128)",
    )
    p.add_argument(
        "--hard-layer",
        type=int_at_least(0),
        default=None,
        help="the run's layer whose goodness scores hard negatives (default: the first trained)",
    )
    p.add_argument(
        "--split",
        default="test",
        choices=["test", "val"],
        help="--layers all: images scored for the curve (val: for choosing hyper-parameters)",
    )
    p.add_argument(
        "--chunk",
        type=int_at_least(1),
        default=None,
        help="windows (one layer) or samples (--layers all) encoded at a time (memory)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--metrics",
        default=None,
        metavar="PATH",
        help="write the metrics here instead of RUN_DIR/learn_metrics.json (figure beside it)",
    )
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_learn)


def sample_counts(text: str) -> tuple[int, ...]:
    """'50000,100000' → (50000, 100000) (argparse type of --lr-steps)."""
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"takes comma-separated sample counts, e.g. 50000,100000; got {text!r}"
        ) from None


def cmd_learn(args: argparse.Namespace) -> int:
    from ..onchip.experiment import LearnConfig, learn_run

    if args.alpha <= 0 or args.z_std <= 0 or args.headroom <= 0:
        from ..onchip.experiment import LearnError

        raise LearnError("--alpha, --z-std and --headroom must be > 0")
    if not Path(args.run_dir).is_dir():
        from ..onchip.experiment import LearnError

        raise LearnError(
            f"{args.run_dir} is not a directory; pass a trained run (ff-neuro train --out DIR)"
        )
    if args.layers == "one" and (args.objective != "threshold" or args.negatives != "uniform"):
        from ..onchip.experiment import LearnError

        raise LearnError("--objective and --negatives apply to --layers all")
    extra = {"chunk": args.chunk} if args.chunk else ({"chunk": 50} if args.layers == "all" else {})
    cfg = LearnConfig(
        backend=args.backend,
        layer=args.layer,
        samples=args.samples,
        profile=args.profile,
        hidden=args.hidden,
        batch=args.batch,
        test_samples=args.test_samples,
        points=args.points,
        alpha=args.alpha,
        lr_shift=args.lr_shift,
        z_std=args.z_std,
        rounding=args.rounding,
        seed=args.seed,
        rate=args.rate,
        headroom=args.headroom,
        frac_bits=args.frac_bits,
        decay_shift=args.decay_shift,
        saturation_gate=args.post_factor == "gated",
        saturation_margin=args.saturation_margin,
        layers=args.layers,
        objective=args.objective,
        negatives=args.negatives,
        hard_alpha=args.hard_alpha,
        hard_layer=args.hard_layer,
        split=args.split,
        lr_steps=args.lr_steps,
        **extra,
    )
    if args.layers == "all":
        return _learn_all(args, cfg)
    m = learn_run(args.run_dir, cfg, progress=not args.no_progress, metrics_path=args.metrics)
    rows = [
        [
            f"{m['backend']} ({m['profile']})",
            pct(m["test_acc_goodness_before"]),
            pct(m["test_acc_goodness_after"]),
        ]
    ]
    if m.get("rate_coded"):
        r = m["rate_coded"]
        rows.append(
            [
                "rate-coded FF (float)",
                pct(r["test_acc_goodness_before"]),
                pct(r["test_acc_goodness_after"]),
            ]
        )
    print_table(rows, ["learning layer", "goodness before", "goodness after"])
    extra = f", ms/step {m['ms_per_step']:.2f}" if m.get("ms_per_step") is not None else ""
    ident = m.get("weights_bit_identical")
    print(
        f"{m['windows']} windows{extra}"
        + ("" if ident is None else f", weights bit-identical: {ident}")
    )
    print(f"metrics: {args.metrics or Path(args.run_dir) / 'learn_metrics.json'}")
    return 0


def _learn_all(args: argparse.Namespace, cfg) -> int:
    from ..onchip.conv_learn import learn_network

    m = learn_network(args.run_dir, cfg, progress=not args.no_progress, metrics_path=args.metrics)
    rows = []
    for e in m["layers"] + [None]:
        src = e if e is not None else m
        r = src.get("rate_coded") or {}
        rows.append(
            [
                f"layer {e['layer']}" if e is not None else "network",
                pct(src["test_acc_goodness_before"]),
                pct(src["test_acc_goodness_after"]),
                pct(r["test_acc_goodness_after"]) if r else "-",
                "-"
                if e is None or e.get("weights_bit_identical") is None
                else str(e["weights_bit_identical"]),
            ]
        )
    print_table(rows, ["", "goodness before", "after", "rate-coded after", "bit-identical"])
    extra = f", ms/step {m['ms_per_step']:.2f}" if m.get("ms_per_step") is not None else ""
    print(f"{m['windows']} windows ({m['backend']}, {m['profile']}){extra}")
    print(f"metrics: {args.metrics or Path(args.run_dir) / 'learn_metrics.json'}")
    return 0
