"""A tiny FF-CNN trained on real MNIST images: both classifiers must beat chance by a wide margin."""

import json


def test_tiny_ff_cnn_learns_real_mnist(tiny_run):
    run_dir, m = tiny_run
    assert m["train_size"] == 3000 and m["test_size"] == 1000
    assert m["test_acc_linear"] > 0.80, m["test_acc_linear"]
    # Goodness learns label discrimination slowly (docs/RESULTS.md): after 180 steps it is well above
    # chance statistically: chance is 0.10 and its binomial s.d. on 1000 images is 0.0095, so 0.14 is > 4 s.d.
    assert m["test_acc_goodness"] > 0.14, m["test_acc_goodness"]
    saved = json.loads((run_dir / "metrics.json").read_text())
    assert saved["test_acc_linear"] == m["test_acc_linear"]
    assert len((run_dir / "metrics.jsonl").read_text().splitlines()) == m["epochs"]


def test_evaluate_reproduces_metrics(tiny_run, mnist_small):
    from ff_neuro.ff import evaluate_run

    run_dir, m = tiny_run
    r = evaluate_run(run_dir, "test", "cpu", dataset=mnist_small)
    assert r["test_acc_linear"] == m["test_acc_linear"]
    assert r["test_acc_goodness"] == m["test_acc_goodness"]
