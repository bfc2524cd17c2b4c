"""``build_report(run_dir)``: one self-contained HTML page with every picture the run has data for.

Reads from RUN_DIR: config.yaml, metrics.json, metrics.jsonl, best.safetensors (rate model), and when
present spike_metrics.json (spiking stage), deploy_metrics.json and compare.json (Lava stage; their
tables: :mod:`ff_neuro.analysis.deployment`). Writes
RUN_DIR/report/{index.html, *.png, manifest.json}; index.html inlines the PNGs (base64), so it can be
mailed or archived alone. Sections without data are left out (the manifest lists those written).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..config import dump_config
from ..data.labels import FourierLabels, sample_negatives
from ..errors import FFNeuroError
from ..ff.run import open_run
from ..hardware.qat import build_model
from ..io import atomic_write_bytes, atomic_write_json
from ..io import read_jsonl as read
from ..spiking import SpikingNetwork
from ..spiking.convert import is_native
from ..spiking.store import run_spec
from . import cam, deployment, gallery, html, plots, separation, spiking_views

REPORT_DIR = "report"
GOODNESS = {"sum": "Σy², θ = s·N", "mean": "Σy²/N, the mean over its N units, θ = s"}
SPIKING_PICK_IMAGES = 100  # test images simulated to pick the spiking CAM examples
SECTION_TITLES = {
    "overview": "Run summary",
    "labels": "Label gallery",
    "cams": "Class Activation Maps",
    "curves": "Learning curves",
    "separation": "Goodness separation",
    "spiking": "Spiking activity",
    "lava": "Lava deployment",
    "cost": "Hardware cost estimate",
    "onchip": "FF learning on the simulated chip",
    "config": "Exact config",
}


class ReportError(FFNeuroError):
    pass


def read_json(path: Path) -> Any | None:
    return json.loads(path.read_text()) if path.is_file() else None


def read_jsonl(path: Path) -> list[dict]:
    """The epochs of metrics.jsonl; a torn last line (training killed mid-write) is skipped with a warning."""
    return read(path)


@dataclass
class RunFiles:
    """The JSON/text files of a run directory (None where absent)."""

    run_dir: Path
    metrics: dict | None
    history: list[dict]
    config_text: str | None
    spike_metrics: dict | None
    deploy_metrics: dict | None
    compare: dict | None

    @classmethod
    def read(cls, run_dir: str | Path) -> RunFiles:
        d = Path(run_dir)
        if not d.is_dir():
            raise ReportError(
                f"run directory {d} does not exist; pass the --out folder of `ff-neuro train`"
            )
        cfg = d / "config.yaml"
        return cls(
            d,
            read_json(d / "metrics.json"),
            read_jsonl(d / "metrics.jsonl"),
            cfg.read_text() if cfg.is_file() else None,
            read_json(d / "spike_metrics.json"),
            read_json(d / "deploy_metrics.json"),
            read_json(d / "compare.json"),
        )


def fmt_pct(v) -> str:
    return "n/a" if v is None else f"{100 * float(v):.2f} %"


def fmt_num(v) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, bool) or isinstance(v, str):
        return str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, dict):
        return ", ".join(f"{k}: {fmt_num(x)}" for k, x in v.items())
    return str(v)


# --- sections --------------------------------------------------------------------------------
def overview_section(files: RunFiles, kind: str) -> html.Section:
    s = html.Section("overview", SECTION_TITLES["overview"])
    m = files.metrics
    if m:
        rows = [
            ["model kind", m.get("kind", kind)],
            ["training method", m.get("method")],
            ["test accuracy, linear head", fmt_pct(m.get("test_acc_linear"))],
            ["test accuracy, goodness", fmt_pct(m.get("test_acc_goodness"))],
            ["best validation accuracy, linear", fmt_pct(m.get("best_val_acc_linear"))],
            ["best validation accuracy, goodness", fmt_pct(m.get("best_val_acc_goodness"))],
            ["best epoch / epochs", f"{m.get('best_epoch')} / {m.get('epochs')}"],
            ["training time (s)", fmt_num(m.get("train_seconds"))],
            [
                "train / val / test images",
                f"{m.get('train_size')} / {m.get('val_size')} / {m.get('test_size')}",
            ],
            ["device", m.get("device")],
            ["hardware", m.get("hardware")],
            ["torch / numpy", f"{m.get('torch')} / {m.get('numpy')}"],
            ["finished", m.get("date")],
        ]
        s.parts.append(html.table([[k, fmt_num(v)] for k, v in rows], ["metric", "value"]))
    else:
        s.parts.append(
            html.paragraph(
                "metrics.json is missing (the run did not finish); the numbers below "
                "come from the per-epoch log.",
                "note",
            )
        )
    if files.history:
        rows = [
            [
                r["epoch"],
                fmt_num(r["loss"].get("total")),
                fmt_pct(r.get("val_acc_linear")),
                fmt_pct(r.get("val_acc_goodness")),
                fmt_num(r.get("epoch_seconds")),
            ]
            for r in files.history
        ]
        s.parts.append(
            html.table(
                rows, ["epoch", "train loss (total)", "val linear", "val goodness", "epoch s"]
            )
        )
    return s


def labels_section(
    out: Path, labels: FourierLabels, x: torch.Tensor, y: torch.Tensor, names, seed: int
):
    s = html.Section("labels", SECTION_TITLES["labels"])
    s.add_figure(
        gallery.plot_label_patterns(labels, out / "label_patterns.png", names),
        "The Fourier label patterns L_c of the label set: one plane wave (k cycles per image width, "
        "orientation θ) per class.",
    )
    neg = int(sample_negatives(y[:1], labels.num_classes, torch.Generator().manual_seed(seed))[0])
    s.add_figure(
        gallery.plot_label_overlay(
            labels, x[0, 0], int(y[0]), neg, out / "label_overlay.png", names
        ),
        f"One test image: raw, with its own label (positive input, minmax((1−K)x + K·L_y), K = {labels.K:g}), "
        f"with a wrong label (negative input) and with the mean pattern (the linear head's neutral input).",
    )
    return s


def activation_units(cfg) -> str:
    """How this run's layer activations are defined (what the CAM caption multiplies)."""
    if is_native(cfg):
        return (
            f"in spike units (firing rate per step × λ_l; model.norm {cfg.model.norm}, "
            f"activation {cfg.model.activation})"
        )
    layer_input = "RMS-normalised" if cfg.model.norm == "rms" else "unnormalised"
    return f"{cfg.model.activation} of the {layer_input} layer input (model.norm {cfg.model.norm})"


def cams_section(out: Path, model, snn, x, y, names, samples_note: str, cfg):
    s = html.Section("cams", SECTION_TITLES["cams"])
    s.parts.append(
        html.paragraph(
            "CAM of class c = Σ over channels of f_l(k, x, y) × the head weight linking that unit to c, "
            "per readout layer l and summed over them, where f_l is what the linear head sees: the "
            f"activation of layer l for the neutral-labelled image, {activation_units(cfg)}, divided "
            "by its RMS over the layer (the head's feature normalisation). The pixel sum of the "
            "combined map plus the bias is the class logit. One correctly classified test image per "
            "class (if any), CAM of its true class. Layer indices are 0-based: index 1 and 2 are the "
            "paper's layers 2 and 3."
        )
    )
    if model is not None:
        pred = model.predict_linear(x).cpu().numpy()
        idx = cam.pick_examples(y.numpy(), pred, 1, model.num_classes)
        cams = cam.rate_model_cams(model, x[idx])
        s.add_figure(
            cam.plot_cam_grid(
                x[idx],
                y[idx].tolist(),
                cams,
                out / "cam_rate.png",
                names,
                "Class Activation Maps: rate model",
                pred[idx],
            ),
            f"Rate model CAMs (red: evidence for the class, blue: against; outline: the digit). {samples_note}",
        )
    if snn is not None:
        n = min(len(y), SPIKING_PICK_IMAGES)
        pred = snn.predict_linear(x[:n]).cpu().numpy()
        idx = cam.pick_examples(y[:n].numpy(), pred, 1, snn.num_classes)
        cams = spiking_views.spiking_cams(snn, x[idx])
        s.add_figure(
            cam.plot_cam_grid(
                x[idx],
                y[idx].tolist(),
                cams,
                out / "cam_spiking.png",
                names,
                f"Class Activation Maps: spiking model (T = {snn.T}, {snn.spec.encoding})",
                pred[idx],
            ),
            f"Spiking model CAMs from spike counts: f_l = rms_norm(count_l / T), weights of the spiking "
            f"network's linear head (T = {snn.T}, {snn.spec.encoding} encoding).",
        )
    return s


def spiking_table(sm: dict) -> str:
    """The rate model on the spiking stage's own images, then every (variant, encoding, T) with its
    accuracy gap to it in percentage points."""
    rate = sm.get("rate") or {}

    def acc(v) -> str:
        return "not run" if v is None else fmt_pct(v)

    def gap(r: dict, key: str) -> str:
        v, ref = r.get(key), rate.get(key)
        return "–" if v is None or ref is None else deployment.gap(100 * (v - ref))

    rows = [
        ["rate model (reference)", "–", "–", acc(rate.get("acc_linear")), "–"]
        + [acc(rate.get("acc_goodness")), "–", "–", "–"]
    ]
    for r in sorted(
        sm["results"], key=lambda r: (str(r.get("variant")), r["encoding"], r["timesteps"])
    ):
        rows.append(
            [r.get("variant", ""), r["encoding"], r["timesteps"], acc(r["acc_linear"])]
            + [gap(r, "acc_linear"), acc(r.get("acc_goodness")), gap(r, "acc_goodness")]
            + [deployment.count(r.get("spikes_total")), fmt_num(r.get("seconds"))]
        )
    header = ["variant", "encoding", "T", "linear", "Δ rate", "goodness", "Δ rate"]
    table = html.table(rows, header + ["spikes / inference", "seconds"])
    return table + html.paragraph(
        f"All rows on the same first {sm.get('samples', '?')} {sm.get('split', 'test')} images. "
        "Δ rate: accuracy minus the rate model's, in percentage points. Spikes per inference: all "
        "layers, one image, T steps; seconds: the evaluation's wall time.",
        "note",
    )


def spiking_section(out: Path, sm: dict | None, snn, x, y) -> html.Section | None:
    if sm is None and snn is None:
        return None
    s = html.Section("spiking", SECTION_TITLES["spiking"])
    if sm is not None:
        if sm.get("results"):
            s.add_figure(
                plots.plot_accuracy_vs_timesteps(sm, out / "spiking_accuracy_vs_T.png"),
                "Accuracy of the converted spiking network against the number of time steps T, per "
                "input encoding; grey lines: the rate model on the same images.",
            )
            s.parts.append(spiking_table(sm))
        if sm.get("firing_rates") and sm.get("results"):
            s.add_figure(
                plots.plot_firing_rates(sm, out / "spiking_firing_rates.png"),
                "Left: mean firing rate per layer (spikes per neuron per step), as measured by the "
                "spiking stage (default variant and first encoding, at the largest T). Right: spikes "
                "per inference of each layer against T (solid/dashed: variants or encodings).",
            )
    if snn is not None:
        trains = spiking_views.raster_trains(snn, x[0])
        s.add_figure(
            plots.plot_spike_raster(
                trains,
                out / "spike_raster.png",
                f"Spike raster: one test image (class {int(y[0])}), neutral label, "
                f"T = {snn.T}, {snn.spec.encoding} encoding",
            ),
            "Spike trains of a few neurons per layer (drawn among those that fire, ordered by count) "
            "for one image.",
        )
    return s if s.figures else None


def onchip_section(out: Path, run_dir: Path) -> html.Section | None:
    """The learning curve and numbers of ``ff-neuro learn`` (RUN_DIR/learn_metrics.json, learn_curve.png)."""
    m, png = read_json(run_dir / "learn_metrics.json"), run_dir / "learn_curve.png"
    if not m or not png.is_file():
        return None
    import shutil

    s = html.Section("onchip", SECTION_TITLES["onchip"])
    shutil.copyfile(png, out / "learn_curve.png")
    mode = "Loihi fixed point" if m.get("fixed_point") else "float"
    s.add_figure(
        out / "learn_curve.png",
        f"Goodness accuracy from spike counts on {m.get('test_samples')} test images while one dense "
        f"FF layer learns on layer {m.get('layer')}'s spikes ({m.get('backend')}, {mode}; "
        f"docs/onchip.md).",
    )
    rows = [
        [k, fmt_num(m.get(k))]
        for k in (
            "backend",
            "profile",
            "samples",
            "windows",
            "hidden",
            "test_acc_goodness_before",
            "test_acc_goodness_after",
            "weights_bit_identical",
            "ms_per_step",
        )
    ]
    s.parts.append(html.table(rows, ["metric", "value"]))
    return s


# --- the report ------------------------------------------------------------------------------
def build_report(
    run_dir: str | Path,
    out_dir: str | Path | None = None,
    device: str = "cpu",
    dataset=None,
    samples: int = 1000,
    spiking: bool | None = None,
    seed: int = 0,
) -> Path:
    """Write ``run_dir/report/index.html`` (or ``out_dir/index.html``) and its PNGs; return the HTML path.

    ``spiking``: None = simulate the spiking network (raster, spiking CAMs) when the run has spiking
    data (spike_metrics.json); True = always; False = never. The network is the spec ``ff-neuro spike``
    saved for the run's T (else the default conversion). ``samples`` test images feed the separation
    histograms and the CAM picks. Reads best.safetensors (the last checkpoint of an interrupted run).
    """
    files = RunFiles.read(run_dir)
    out = Path(out_dir) if out_dir else files.run_dir / REPORT_DIR
    out.mkdir(parents=True, exist_ok=True)
    run = open_run(files.run_dir, device, which=None, factory=build_model, dataset=dataset)
    model, cfg, kind = run.model, run.cfg, run.kind
    torch.manual_seed(seed)
    x, y = run.test_tensors(samples)
    names = list(run.dataset.class_names) if getattr(run.dataset, "class_names", None) else None
    rate = model if kind == "rate" else None

    snn, spec_source = None, None
    if spiking if spiking is not None else files.spike_metrics is not None:
        spec, spec_source = run_spec(run, device=run.device)
        snn = SpikingNetwork(spec, device=run.device, seed=seed)

    note = f"Examples drawn from the first {len(y)} test images."
    sections = [
        overview_section(files, kind),
        labels_section(
            out,
            FourierLabels(tuple(x.shape[-2:]), run.num_classes, cfg.labels.set, cfg.labels.K),
            x,
            y,
            names,
            seed,
        ),
    ]
    if rate is not None or snn is not None:
        sections.append(cams_section(out, rate, snn, x, y, names, note, cfg))
    if files.history:
        s = html.Section("curves", SECTION_TITLES["curves"])
        s.add_figure(
            plots.plot_learning_curves(files.history, out / "learning_curves.png"),
            "Mean training loss per epoch of every FF layer and of the linear head (log scale), and "
            "validation accuracy of the two classifiers.",
        )
        sections.append(s)
    if rate is not None:
        s = html.Section("separation", SECTION_TITLES["separation"])
        g = separation.goodness_samples(rate, x, y, seed)
        s.add_figure(
            separation.plot_goodness_separation(
                g, rate.net.thresholds, out / "goodness_separation.png", cfg.model.loss_layers
            ),
            f"Goodness of every layer ({GOODNESS[cfg.goodness.measure]}) for positive inputs (true "
            f"label) and negative inputs (a random wrong label) of {len(y)} test images; dashed: the "
            f"layer's threshold θ. 'sep' = ½(P[G⁺ > θ] + P[G⁻ ≤ θ]), what a threshold loss "
            f"optimises; 'G⁺ > G⁻' = the share of images whose positive input has the higher "
            f"goodness, what a pairwise loss (SymBa; this run: {cfg.goodness.loss}) optimises. "
            f"50 % = no separation.",
        )
        sections.append(s)
    for extra in (
        spiking_section(out, files.spike_metrics, snn, x, y),
        *deployment.sections(out, files.compare, files.deploy_metrics, SECTION_TITLES),
        onchip_section(out, files.run_dir),
    ):
        if extra is not None:
            sections.append(extra)
    cfg_section = html.Section("config", SECTION_TITLES["config"])
    cfg_section.parts.append(html.preformatted(files.config_text or dump_config(cfg)))
    sections.append(cfg_section)

    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    title = f"ff_neuro report: {cfg.name}"
    subtitle = f"run {files.run_dir.resolve()} · {kind} model · generated {stamp}"
    index = out / "index.html"
    atomic_write_bytes(index, html.page(title, subtitle, sections).encode("utf-8"))
    atomic_write_json(
        out / "manifest.json",
        {
            "sections": [s.id for s in sections],
            "figures": {s.id: [p.name for p in s.figures] for s in sections if s.figures},
            "samples": int(len(y)),
            "spiking_simulated": snn is not None,
            "spike_spec": spec_source,
            "generated": stamp,
        },
    )
    return index
