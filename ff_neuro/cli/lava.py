"""``ff-neuro export | deploy | compare``: the Lava / hardware stage."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..hardware.export import NETX_BOUNDS, NETX_RESETS, export_run
from ..hardware.netx import OBSERVED_MARGIN
from ..hardware.verify import CLIENTS_JSON, check_verifiable, row_text, verify_export
from ..pipeline import COMPARE, compare_run
from .common import float_between, int_at_least, max_timesteps, pct
from .tables import figure, print_comparison, print_costs, print_lava

FORMATS = ("lava", "netx", "nir")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export", help="export a trained run for a hardware profile (lava npz, netx HDF5 or NIR)"
    )
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument(
        "--profile", default="loihi2", help="hardware profile name or YAML path (default loihi2)"
    )
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--format", default="lava", choices=FORMATS)
    p.add_argument(
        "--timesteps",
        type=int_at_least(1, max_timesteps()),
        default=None,
        help="time steps T (default: the run's spiking config)",
    )
    p.add_argument(
        "--verify",
        type=int_at_least(0),
        default=0,
        metavar="N",
        help="run the export in its real clients on N test images (netx: lava-dl in Lava, against "
        "deploy --fixed-point; nir: norse, snnTorch, sinabs, against ff_neuro's simulator); "
        "writes OUT/clients.json",
    )
    p.add_argument(
        "--emulation-samples",
        type=int_at_least(0),
        default=0,
        metavar="M",
        help="netx --verify: also compare the integer network netx runs with the deployed one on M "
        "test images in the emulation (no Lava)",
    )
    p.add_argument(
        "--netx-bound",
        default="observed",
        choices=NETX_BOUNDS,
        help="netx: bound on each layer's input current that limits the 2^k rescaling keeping "
        "the biases: observed (margin x the largest on 100 training images, each with "
        "every label; default) or worst-case (no input can overflow; biases may round); "
        "docs/hardware.md",
    )
    p.add_argument(
        "--netx-margin",
        type=float_between(1.0, 64.0),
        default=OBSERVED_MARGIN,
        metavar="M",
        help=f"netx --netx-bound observed: the margin (default {OBSERVED_MARGIN})",
    )
    p.add_argument(
        "--netx-reset",
        choices=NETX_RESETS,
        default=None,
        help="netx of a network that resets by subtraction (refused without this): neuron type "
        "CUBA_SUBTRACT, which lava-dl loads only inside ff_neuro.lava.netx_subtract."
        "netx_reset_subtract() (docs/hardware.md)",
    )
    p.add_argument(
        "--lava-models",
        choices=("reference", "fast"),
        default="reference",
        help="netx --verify: Lava's reference Conv/LIF ProcessModels (default) or ff_neuro's "
        "bit-exact fast ones for the lava-dl network",
    )
    p.set_defaults(func=cmd_export)

    p = sub.add_parser(
        "deploy",
        help="run test images of a trained run on Lava; writes RUN_DIR/deploy_metrics.json",
    )
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--profile", default="loihi2")
    p.add_argument("--samples", type=int_at_least(1), default=100)
    p.add_argument(
        "--fixed-point", action="store_true", help="Lava fixed_pt models, quantised to the profile"
    )
    p.add_argument("--timesteps", type=int_at_least(1, max_timesteps()), default=None)
    p.add_argument(
        "--goodness", action="store_true", help="also run every label per image (10x the Lava work)"
    )
    p.add_argument(
        "--exact-grid",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="float: run the network rounded to a grid on which float32 (snnTorch) and float64 (Lava) "
        "are exact, so agreement is guaranteed (default: on)",
    )
    p.add_argument(
        "--lava-models",
        choices=("fast", "reference"),
        default="fast",
        help="Conv/LIF ProcessModels: ff_neuro's fast ones (default) or Lava's reference models",
    )
    p.add_argument(
        "--chunk",
        type=int_at_least(1),
        default=500,
        help="images per Lava graph (bounds memory; default 500)",
    )
    p.add_argument(
        "--reference-check",
        type=int_at_least(0),
        default=0,
        metavar="N",
        help="also run the first N images on Lava's reference models and compare neuron by neuron",
    )
    p.add_argument(
        "--goodness-samples",
        type=int_at_least(1),
        default=None,
        metavar="N",
        help="with --goodness: only the first N images (default: all)",
    )
    p.set_defaults(func=cmd_deploy)

    p = sub.add_parser(
        "compare", help="rate vs snnTorch vs Lava float vs Lava fixed point on the same images"
    )
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--samples", type=int_at_least(1), default=100)
    p.add_argument("--profile", default="loihi2", help="profile of the fixed-point Lava row")
    p.add_argument("--timesteps", type=int_at_least(1, max_timesteps()), default=None)
    p.add_argument(
        "--goodness", action="store_true", help="goodness accuracy on Lava too (10x the Lava work)"
    )
    p.set_defaults(func=cmd_compare)


def cmd_export(args: argparse.Namespace) -> int:
    if args.verify:
        check_verifiable(args.format, args.verify)
    paths = export_run(
        args.run_dir,
        args.profile,
        args.out,
        args.format,
        args.timesteps,
        args.netx_bound,
        args.netx_margin,
        args.netx_reset,
    )
    for p in paths:
        print(p)
    if args.verify:
        res = verify_export(
            args.run_dir,
            args.out,
            args.format,
            args.verify,
            args.profile,
            args.timesteps,
            emulation_samples=args.emulation_samples,
            backend=args.lava_models,
        )
        for name, r in res["rows"].items():
            print(row_text(name, r))
        extra = res.get("netx_integer_network_vs_deployed_emulation")
        if extra:
            print(
                f"netx integer network vs deployed (emulation, {extra['samples']} images): "
                f"{100 * extra['spike_count_agreement']:.4f} % counts, {100 * extra['identical_predictions']:.2f} % predictions"
            )
        print(f"wrote {Path(args.out) / CLIENTS_JSON}")
    return 0


def cmd_deploy(args: argparse.Namespace) -> int:
    from ..lava.deploy import DEPLOY_METRICS, ProgressBar, deploy_run  # the lava extra

    bar = ProgressBar("deploy")
    try:
        m = deploy_run(
            args.run_dir,
            args.profile,
            args.samples,
            args.fixed_point,
            args.timesteps,
            args.goodness,
            exact_grid=args.exact_grid,
            progress=bar,
            backend=args.lava_models,
            chunk=args.chunk,
            reference_check=args.reference_check,
            goodness_samples=args.goodness_samples,
        )
    finally:
        bar.close()
    a = m["agreement"]
    print(
        f"profile {m['profile']} ({'fixed point' if m['fixed_point'] else 'float'}), {m['samples']} images, "
        f"T={m['timesteps']}"
    )
    print(
        f"accuracy linear {pct(m['accuracy']['linear'])}, goodness {pct(m['accuracy']['goodness'])}"
    )
    print(
        f"spike-count agreement with {a['reference']}: {100 * a['spike_count_agreement']:.4f} % "
        f"({a['identical_samples']}/{a['samples_compared']} images identical)"
    )
    print(
        f"spikes/inference {m['spikes_per_inference']:.0f}, synops/inference {m['synops_per_inference']:.0f}, "
        f"energy {figure(m['energy_per_inference_j'], 'J', m['profile'], 'energy_per_synop_j')}, "
        f"latency {figure(m['latency_per_inference_s'], 's', m['profile'], 'time_per_step_s')}, "
        f"cores {m['cores_used']}, fits: {m['fits']}"
        + ("" if m["fits"] else f" ({'; '.join(m['cost']['reasons'])})")
    )
    print(
        f"wall {m['wall_seconds']:.1f} s, Lava {m['lava_ms_per_step']:.1f} ms/step "
        f"({m['steps_per_second']:.1f} steps/s, {m['lava_backend']} models)"
    )
    if m["backend_check"]:
        c = m["backend_check"]
        print(
            f"Lava reference models on {c['samples']} images: {100 * c['spike_count_agreement']:.4f} % identical counts "
            f"({c['identical_samples']}/{c['samples']} images), {c['reference_ms_per_step']:.1f} ms/step"
        )
    print(f"wrote {Path(args.run_dir) / DEPLOY_METRICS}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    out = compare_run(
        args.run_dir,
        args.samples,
        timesteps=args.timesteps,
        fixed_profile=args.profile,
        goodness=args.goodness,
        progress=True,
    )
    print_lava(out["lava"])
    print_comparison(out)
    print()
    print_costs(out)
    print(f"wrote {Path(args.run_dir) / COMPARE}")
    return 0
