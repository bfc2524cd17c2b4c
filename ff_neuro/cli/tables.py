"""The tables that ``ff-neuro compare`` and ``ff-neuro demo`` print: execution models side by side on the
same test images, each Lava deployment in one line, the cost estimate per hardware profile."""

from __future__ import annotations

from ..hardware.profiles import absent_figure
from .common import pct, print_table


def acc(v: float | None) -> str:
    """An accuracy; "not run" where the classifier was not evaluated."""
    return "not run" if v is None else pct(v)


def pp(v: float | None) -> str:
    """A gap in percentage points with its sign ("+0.00 pp"); "–" where there is none."""
    return "–" if v is None else f"{v:+.2f} pp"


def share(v: float | None, digits: int = 2) -> str:
    """A fraction as a percentage; "–" where there is none."""
    return "–" if v is None else f"{100 * v:.{digits}f} %"


def figure(v: float | None, unit: str, profile: str, field: str) -> str:
    """An estimate in 3 significant digits, else why the profile cannot give it (its cited source)."""
    return absent_figure(profile, field) if v is None else f"{v:.3g} {unit}"


COMPARISON_HEADER = [
    "model",
    "images",
    "linear",
    "Δ rate",
    "same class as rate",
    "goodness",
    "Δ rate",
    "same class as rate",
    "spike counts = reference",
]


def comparison_rows(cmp: dict) -> list[list[str]]:
    """One line per execution model of a compare.json (see :func:`ff_neuro.pipeline.compare_run`)."""
    rows = []
    for r in cmp["rows"]:
        ref = r["model"] == "rate"
        counts = r.get("spike_count_agreement")
        rows.append(
            [
                r["model"],
                str(r["samples"]),
                acc(r["acc_linear"]),
                "reference" if ref else pp(r.get("gap_linear_pp")),
                "reference" if ref else share(r.get("agreement_linear")),
                acc(r["acc_goodness"]),
                "reference" if ref else pp(r.get("gap_goodness_pp")),
                "reference" if ref else share(r.get("agreement_goodness")),
                "–" if counts is None else f"{share(counts, 4)} ({r['reference']})",
            ]
        )
    return rows


COMPARISON_NOTE = (
    "Δ rate: accuracy minus the rate model's on the same images (percentage points); same class as "
    "rate: images classified as the rate model classifies them; spike counts = reference: (image, "
    "neuron) pairs whose spike count in Lava equals that of its reference simulation (neutral label)."
)


def print_comparison(cmp: dict) -> None:
    print_table(comparison_rows(cmp), COMPARISON_HEADER)
    print(COMPARISON_NOTE)


def lava_line(name: str, m: dict) -> str:
    """One deployment (deploy_metrics) in one line: accuracy, speed, activity, resources."""
    good = m["accuracy"]["goodness"]
    load = m.get("load_average")
    load = f", load average {load[0]:g} → {load[1]:g}" if load else ""
    return (
        f"{name}: {m['samples']} images, T = {m['timesteps']}: linear {pct(m['accuracy']['linear'])}"
        + ("" if good is None else f", goodness {pct(good)} ({m['goodness_samples']} images)")
        + f"; {m['lava_ms_per_step']:.2f} ms per Lava step ({m['lava_steps']} steps, "
        f"{m['wall_seconds']:.0f} s{load}); {m['spikes_per_inference']:.0f} spikes and "
        f"{m['synops_per_inference']:.3g} synops per inference; {m['profile']}: "
        f"{m['cores_used']} cores, fits: {'yes' if m['fits'] else 'no'}"
    )


def print_lava(lava: dict) -> None:
    for name, m in lava.items():
        print("      " + lava_line(name, m))


def print_costs(cmp: dict) -> None:
    print_table(
        [
            [
                p,
                figure(c["energy_per_inference_j"], "J", p, "energy_per_synop_j"),
                figure(c["latency_per_inference_s"], "s", p, "time_per_step_s"),
                str(c["cores_used"])
                if c["cores_used"] is not None
                else absent_figure(p, "neurons_per_core"),
                "yes" if c["fits"] else "no: " + "; ".join(c["reasons"]),
            ]
            for p, c in cmp["cost_by_profile"].items()
        ],
        ["profile", "energy / inference", "latency / inference", "cores", "fits"],
    )
