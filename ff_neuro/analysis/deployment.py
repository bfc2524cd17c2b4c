"""The report's Lava and hardware sections: tables with named rows, units, and what each figure is.

Data: RUN_DIR/compare.json (``ff-neuro compare`` or the demo: the execution models on the same test
images, both Lava deployments' metrics, the cost per hardware profile) and RUN_DIR/deploy_metrics.json
(``ff-neuro deploy``). A figure a hardware profile does not give reads "not published" with the
profile's cited source (:func:`ff_neuro.hardware.profiles.absent_figure`), never "n/a".
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..hardware.profiles import ProfileError, absent_figure, load_profile
from . import html, plots

NOT_RECORDED = "not recorded"
SI_PREFIXES = ((1e-12, "p"), (1e-9, "n"), (1e-6, "µ"), (1e-3, "m"), (1.0, ""))


def si(v: float, unit: str) -> str:
    """``v`` in 3 significant digits with an SI prefix: 0.00179 J → "1.79 mJ"."""
    if v == 0 or not math.isfinite(v):
        return f"{v:g} {unit}"
    scale, prefix = next(((s, p) for s, p in reversed(SI_PREFIXES) if abs(v) >= s), SI_PREFIXES[0])
    return f"{v / scale:.3g} {prefix}{unit}"


def count(v: float | None) -> str:
    """A count with thousands separators (one decimal below 100)."""
    if v is None:
        return NOT_RECORDED
    return f"{v:,.1f}" if abs(v) < 100 and v != int(v) else f"{v:,.0f}"


def percent(v: float | None, digits: int = 2) -> str:
    return NOT_RECORDED if v is None else f"{100 * float(v):.{digits}f} %"


def gap(v: float | None) -> str:
    """A difference in percentage points, kept on one line (no-break space)."""
    return "–" if v is None else f"{v:+.2f}\u00a0pp"


def _profile(name: str):
    try:
        return load_profile(name)
    except ProfileError:  # a compare.json written with a profile file that is gone
        return None


def estimate(v: float | None, unit: str, profile: str, field: str) -> str:
    """A cost estimate with its unit, else why the profile cannot give it (from its cited source)."""
    if v is not None:
        return si(float(v), unit)
    return absent_figure(profile, field) if _profile(profile) else "not published"


# --- the execution models side by side --------------------------------------------------------
COMPARISON_HEADER = [
    "model",
    "images",
    "linear head",
    "Δ rate",
    "same class as rate",
    "goodness",
    "Δ rate",
    "same class as rate",
    "spike counts = reference",
]
MODEL_NAMES = {
    "rate": "rate model (reference)",
    "snntorch": "snnTorch (LIF, float32)",
    "lava-float": "Lava float",
    "lava-fixed": "Lava fixed point",
}


def _gap(r: dict, rate: dict, key: str) -> str:
    """The row's gap to the rate model in pp: as compare.json records it, else from the accuracies
    (a compare.json of an older version records none)."""
    v = r.get(f"gap_{key}_pp")
    if v is None and r.get(f"acc_{key}") is not None and rate.get(f"acc_{key}") is not None:
        v = 100 * (r[f"acc_{key}"] - rate[f"acc_{key}"])
    return gap(v)


def comparison_table(compare: dict) -> str:
    rate = next((r for r in compare["rows"] if r["model"] == "rate"), {})
    rows = []
    for r in compare["rows"]:
        ref = r["model"] == "rate"
        agree = r.get("spike_count_agreement")
        rows.append(
            [
                MODEL_NAMES.get(r["model"], r["model"]),
                count(r.get("samples")),
                percent(r.get("acc_linear")),
                "–" if ref else _gap(r, rate, "linear"),
                "–" if ref else percent(r.get("agreement_linear")),
                percent(r.get("acc_goodness")) if r.get("acc_goodness") is not None else "not run",
                "–" if ref else _gap(r, rate, "goodness"),
                "–" if ref else percent(r.get("agreement_goodness")),
                "–" if agree is None else f"{percent(agree, 4)} (vs {r.get('reference', '?')})",
            ]
        )
    return html.table(rows, COMPARISON_HEADER)


COMPARISON_TEXT = (
    "Every model classifies the same first {n} test images (T = {T}). Linear head: the run's linear "
    "classifier on the (spike-count) features of the neutral-label input; goodness: FF's own "
    "classifier, the label whose input gives the highest goodness (every label run per image). "
    "Δ rate: the model's accuracy minus the rate model's, in percentage points; same class as rate: "
    "the share of images the model classifies as the rate model does. Spike counts = reference: the "
    "share of (image, neuron) pairs, over all layers, whose spike count in Lava equals that of its "
    "reference simulation (Lava float: snnTorch; Lava fixed point: ff_neuro's integer emulation of "
    "Loihi arithmetic). Lava float runs the trained network unrounded; Lava fixed point runs it "
    "quantised to the {profile} profile. Written {date}."
)


# --- one or more deployments, metric by metric ------------------------------------------------
def _get(m: dict, *keys):
    for k in keys:
        if not isinstance(m, dict) or k not in m:
            return None
        m = m[k]
    return m


Row = tuple[str, str, Callable[[dict], str], Callable[[dict], str]]


def _cores(m: dict) -> str:
    used, avail = m.get("cores_used"), _get(m, "cost", "cores_available")
    if used is None:
        return absent_figure(m["profile"], "neurons_per_core") if _profile(m["profile"]) else "–"
    return f"{used} of {avail}" if avail else str(used)


def _fits(m: dict) -> str:
    if m.get("fits") is None:
        return NOT_RECORDED
    reasons = _get(m, "cost", "reasons") or []
    return "yes" if m["fits"] else "no: " + "; ".join(reasons)


def _load(m: dict) -> str:
    load = m.get("load_average")
    return f"{load[0]:g} → {load[1]:g}" if load else NOT_RECORDED


REFERENCES = (
    "its reference simulation (Lava float: snnTorch; Lava fixed point: ff_neuro's integer "
    "emulation of Loihi arithmetic)"
)


DEPLOY_ROWS: list[Row] = [
    (
        "test images",
        "images",
        lambda m: count(m.get("samples")),
        lambda m: "The first images of the test split, the same in every column.",
    ),
    (
        "time steps per image",
        "steps",
        lambda m: count(m.get("timesteps")),
        lambda m: "T: the window over which every layer's spikes are counted.",
    ),
    (
        "accuracy, linear head",
        "%",
        lambda m: percent(_get(m, "accuracy", "linear")),
        lambda m: (
            "Images the run's linear head classifies correctly from the spike counts Lava "
            "returns for the neutral-label input."
        ),
    ),
    (
        "accuracy, goodness",
        "%",
        lambda m: (
            "not run"
            if m.get("goodness_samples") == 0
            else percent(_get(m, "accuracy", "goodness"))
        ),
        lambda m: (
            "FF's own classifier on Lava: every label of an image is run and the label with "
            "the highest spike-count goodness wins (10× the Lava work; deploy --goodness)."
        ),
    ),
    (
        "accuracy of the reference simulation, linear head",
        "%",
        lambda m: percent(_get(m, "reference_accuracy", "linear")),
        lambda m: (
            f"The same images through {REFERENCES}: equal to Lava's when the spike counts agree."
        ),
    ),
    (
        "spike-count agreement with the reference",
        "% of (image, neuron) pairs",
        lambda m: percent(_get(m, "agreement", "spike_count_agreement"), 4),
        lambda m: (
            f"Pairs whose spike count in Lava equals that of {REFERENCES}, over all layers "
            "(neutral-label input)."
        ),
    ),
    (
        "images with identical spike counts",
        "images",
        lambda m: (
            f"{count(_get(m, 'agreement', 'identical_samples'))} of {count(m.get('samples'))}"
        ),
        lambda m: (
            "Images on which every neuron of every layer fired as often in Lava as in the "
            "reference."
        ),
    ),
    (
        "spike-count agreement, goodness inputs",
        "% of (input, neuron) pairs",
        lambda m: (
            "not run"
            if m.get("goodness_samples") == 0
            else percent(_get(m, "agreement", "goodness_spike_count_agreement"), 4)
        ),
        lambda m: "The same for every labelled input of the goodness classifier.",
    ),
    (
        "ms per Lava step",
        "ms",
        lambda m: (
            NOT_RECORDED if m.get("lava_ms_per_step") is None else f"{m['lava_ms_per_step']:.2f}"
        ),
        lambda m: (
            "Wall time per time step of Lava 0.10's CPU simulation of the whole graph "
            f"({m.get('lava_backend', 'fast')} ProcessModels; building the graph excluded) over "
            f"{count(m.get('lava_steps'))} steps, measured on {m.get('hardware') or 'this machine'} "
            f"({m.get('date', 'date not recorded')}). A simulation speed, not a chip's."
        ),
    ),
    (
        "wall time of the deployment",
        "s",
        lambda m: NOT_RECORDED if m.get("wall_seconds") is None else f"{m['wall_seconds']:.1f}",
        lambda m: (
            f"Everything: {count(m.get('lava_graphs'))} graph(s) built "
            f"({m.get('lava_build_seconds', '?')} s), run, and the reference simulation beside them."
        ),
    ),
    (
        "machine load during the deployment",
        "1-min load average",
        _load,
        lambda m: (
            "At the start and at the end: other jobs take CPU time from Lava when the load exceeds "
            f"the machine's CPUs ({m.get('hardware') or 'not recorded'}), and the times above grow."
        ),
    ),
    (
        "spikes per inference",
        "spikes",
        lambda m: count(m.get("spikes_per_inference")),
        lambda m: (
            "Spikes of all layers for one image over its T steps (neutral label), counted in "
            "Lava; mean over the images."
        ),
    ),
    (
        "synaptic operations per inference",
        "synops",
        lambda m: count(m.get("synops_per_inference")),
        lambda m: (
            "Every spike (and every non-zero input value) times the number of neurons it "
            "reaches: the activity the energy estimate charges per synaptic operation."
        ),
    ),
    (
        "neuron updates per inference",
        "updates",
        lambda m: count(_get(m, "cost", "neuron_updates_per_inference")),
        lambda m: "Neurons × T: every neuron is updated at every step.",
    ),
    (
        "cores needed",
        "cores",
        _cores,
        lambda m: (
            "Per layer max(⌈neurons / neurons per core⌉, ⌈synapses × weight bits / synaptic "
            f"memory per core⌉), summed; the chip's figures from hardware_profiles/{m.get('profile')}.yaml."
        ),
    ),
    (
        "fits on the chip",
        "",
        _fits,
        lambda m: (
            "Enough cores, and every layer's fan-in within the inputs a core accepts (where "
            "the profile gives that figure)."
        ),
    ),
    (
        "energy per inference",
        "J",
        lambda m: estimate(
            m.get("energy_per_inference_j"), "J", m["profile"], "energy_per_synop_j"
        ),
        lambda m: (
            "synops × energy per synaptic op + neuron updates × energy per update + spikes × "
            "energy per spike, with the profile's published per-operation energies."
        ),
    ),
    (
        "latency per inference",
        "s",
        lambda m: estimate(m.get("latency_per_inference_s"), "s", m["profile"], "time_per_step_s"),
        lambda m: f"Latency model: {_get(m, 'cost', 'latency_model') or 'T × time per step'}.",
    ),
]


def deployment_columns(compare: dict | None, deploy: dict | None) -> dict[str, dict]:
    """{column title: deploy metrics}: the deployments of compare.json, then deploy_metrics.json."""
    names = {"lava-float": "Lava float", "lava-fixed": "Lava fixed point"}
    cols = {
        f"{names.get(k, k)} ({m['profile']}, compare)": m
        for k, m in ((compare or {}).get("lava") or {}).items()
    }
    if deploy:
        kind = "fixed point" if deploy.get("fixed_point") else "float"
        cols[f"ff-neuro deploy ({kind}, {deploy.get('profile')})"] = deploy
    return cols


def deployment_table(cols: dict[str, dict]) -> str:
    first = next(iter(cols.values()))
    rows = [
        [name, unit, *(value(m) for m in cols.values()), explain(first)]
        for name, unit, value, explain in DEPLOY_ROWS
    ]
    return html.table(rows, ["metric", "unit", *cols, "what it is, where it comes from"], "metrics")


# --- the cost estimate of every hardware profile ----------------------------------------------
ENERGY_TERMS = (
    ("energy_per_synop_j", "synops"),
    ("energy_per_neuron_update_j", "neuron updates"),
    ("energy_per_spike_j", "spikes"),
)


def energy_model(name: str) -> str:
    """The energy formula a profile supports, with its cited per-operation figures."""
    prof = _profile(name)
    if prof is None:
        return "profile file not found"
    if prof.energy_per_synop_j is None:
        return absent_figure(prof, "energy_per_synop_j")
    terms = [
        f"{what} × {si(getattr(prof, f), 'J')} ({prof.sources[f].split(':')[0]})"
        for f, what in ENERGY_TERMS
        if getattr(prof, f) is not None
    ]
    missing = [what for f, what in ENERGY_TERMS if getattr(prof, f) is None]
    return " + ".join(terms) + (f"; {', '.join(missing)}: not published" if missing else "")


def cost_table(compare: dict) -> str:
    rows = []
    for p, c in compare["cost_by_profile"].items():
        prof = _profile(p)
        avail = (
            prof.chips * prof.cores_per_chip
            if prof and prof.chips and prof.cores_per_chip
            else None
        )
        if c.get("cores_used") is None:
            cores = absent_figure(prof, "neurons_per_core") if prof else "–"
        else:
            cores = f"{c['cores_used']} of {avail}" if avail else str(c["cores_used"])
        rows.append(
            [
                p,
                cores,
                "yes" if c.get("fits") else "no: " + "; ".join(c.get("reasons") or []),
                estimate(c.get("energy_per_inference_j"), "J", p, "energy_per_synop_j"),
                estimate(c.get("latency_per_inference_s"), "s", p, "time_per_step_s"),
                energy_model(p),
                c.get("latency_model") or "–",
            ]
        )
    return html.table(
        rows,
        [
            "profile",
            "cores needed (of the chip's)",
            "fits",
            "energy per inference",
            "latency per inference",
            "energy model",
            "latency model",
        ],
    )


def references(profiles) -> str:
    """The full citations behind the reference keys the cost table names."""
    refs = {}
    for p in profiles:
        prof = _profile(p)
        if prof is not None:
            refs.update(prof.references)
    items = "".join(
        f"<li><b>{html.esc(k)}</b>: {html.esc(v)}</li>" for k, v in sorted(refs.items())
    )
    return f"<p class=note>Sources of the profile figures:</p><ul class=refs>{items}</ul>"


# --- the two sections -------------------------------------------------------------------------
def lava_section(compare: dict | None, deploy: dict | None, title: str) -> html.Section | None:
    """Rate / snnTorch / Lava on the same images, then every deployment metric by metric."""
    cols = deployment_columns(compare, deploy)
    if not (compare and compare.get("rows")) and not cols:
        return None
    s = html.Section("lava", title)
    if compare and compare.get("rows"):
        s.parts.append("<h3>The same test images through every execution model</h3>")
        s.parts.append(comparison_table(compare))
        s.parts.append(
            html.paragraph(
                COMPARISON_TEXT.format(
                    n=compare.get("samples", "?"),
                    T=compare.get("timesteps", "?"),
                    profile=compare.get("fixed_profile", "?"),
                    date=compare.get("date", "(date not recorded)"),
                ),
                "note",
            )
        )
    if cols:
        s.parts.append("<h3>Lava deployments, metric by metric</h3>")
        s.parts.append(deployment_table(cols))
    return s


def cost_section(out: Path, compare: dict | None, title: str) -> html.Section | None:
    """The cost estimate per hardware profile: a figure, a table, the sources."""
    if not (compare and compare.get("cost_by_profile")):
        return None
    s = html.Section("cost", title)
    cost = compare["cost_by_profile"]
    s.add_figure(
        plots.plot_hardware_cost(compare, out / "hardware_cost.png"),
        "Estimated cost of one inference on each hardware profile; hatched bars: the network does "
        "not fit the chip; 'not published': the profile has no figure for it (table below).",
    )
    s.parts.append(cost_table(compare))
    s.parts.append(
        html.paragraph(
            f"An estimate, not a measurement: the activity per inference ("
            f"{count(_get(compare, 'activity', 'spikes_per_inference'))} spikes, "
            f"{count(_get(compare, 'activity', 'synops_per_inference'))} synaptic operations) was "
            f"measured in the {compare.get('activity_source', 'Lava float run')} on "
            f"{compare.get('samples', '?')} test images; every chip figure comes from "
            "hardware_profiles/<profile>.yaml, where each value cites its source. Cores: per layer "
            "max(⌈neurons / neurons per core⌉, ⌈synapse bits / synaptic memory per core⌉).",
            "note",
        )
    )
    s.parts.append(references(cost))
    return s


def sections(out: Path, compare: dict | None, deploy: dict | None, titles: dict[str, Any]):
    """The Lava and the hardware-cost section, each None without data."""
    return [
        lava_section(compare, deploy, titles["lava"]),
        cost_section(out, compare, titles["cost"]),
    ]
