"""examples/casting: the synthetic generator, both models, the trainer end to end (tiny, CPU),
and the errors for a missing folder, a wrong layout and a corrupt JPEG."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from examples.casting import data, make_synthetic, models, train
from examples.casting.report import binary_metrics

OUTPUTS = ("samples.png", "best.pt", "curves.png", "confusion_matrix.png", "misclassified.png",
           "model.txt", "metrics.json")


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    """5 training and 3 test images per class, 48x48."""
    return make_synthetic.write_dataset(tmp_path_factory.mktemp("casting"), 5, 3, size=48,
                                        seed=1, progress=False)


def test_synthetic_tree_matches_the_real_dataset(tiny_data) -> None:
    assert not data.layout_problems(tiny_data)
    for split, count in (("train", 5), ("test", 3)):
        for name in data.CLASSES:
            files = sorted((tiny_data / split / name).iterdir())
            assert len(files) == count
            assert files[0].name.startswith(f"cast_{name[:-6]}_0_") and files[0].suffix == ".jpeg"
            assert Image.open(files[0]).size == (48, 48)


def test_synthetic_images_are_reproducible_and_defects_differ(tmp_path) -> None:
    rng = lambda: np.random.default_rng(3)  # noqa: E731
    a = np.asarray(make_synthetic.make_image(rng(), 96, defective=True))
    b = np.asarray(make_synthetic.make_image(rng(), 96, defective=True))
    np.testing.assert_array_equal(a, b)
    part = make_synthetic.draw_part(np.random.default_rng(0), 96)
    for kind in make_synthetic.DEFECTS:
        changed = make_synthetic.add_defect(np.random.default_rng(0), part[0].copy(), part[1], kind)
        assert np.abs(changed - part[0]).max() > 20, kind


def test_labels_make_defect_the_positive_class(tiny_data) -> None:
    train_ds, val_ds = data.load_datasets(tiny_data, 32)
    assert train_ds.class_to_idx == {"ok_front": 0, "def_front": 1}
    path, label = train_ds.samples[0]
    assert ("def_front" in path) == (label == 1)
    x, _ = val_ds[0]
    assert x.shape == (1, 32, 32) and 0 <= x.min() and x.max() <= 1


def test_simplenet_is_the_seed_architecture() -> None:
    net = models.SimpLeNet(64)
    assert (net.conv.in_channels, net.conv.out_channels, net.conv.kernel_size, net.conv.padding,
            net.conv.stride) == (1, 16, (3, 3), (1, 1), (1, 1))
    assert (net.pool.kernel_size, net.pool.stride) == (2, 2)
    assert (net.fc1.in_features, net.fc1.out_features) == (16 * 32 * 32, 16)
    assert (net.fc2.in_features, net.fc2.out_features) == (16, 1)
    p = net(torch.rand(3, 1, 64, 64))
    assert p.shape == (3, 1) and bool(((p > 0) & (p < 1)).all())


def test_improved_model_stays_under_the_limit_and_ends_on_one_neuron() -> None:
    for size in (64, 128, 300):
        model = models.build_model("improved", size)
        assert models.check_parameter_budget(model) < models.PARAMETER_LIMIT
        assert model.head[-1].out_features == 1
    with pytest.raises(ValueError, match=r"SimpLeNet has 5,760,193 trainable parameters; the limit is 500,000"):
        models.check_parameter_budget(models.SimpLeNet(300))


def test_metrics_count_defects_as_positive() -> None:
    labels = np.array([1, 1, 1, 0, 0])
    probs = np.array([0.9, 0.8, 0.2, 0.6, 0.1])
    m = binary_metrics(labels, probs)
    assert m["confusion_matrix"] == [[1, 1], [1, 2]]
    assert m["accuracy"] == pytest.approx(0.6)
    assert m["precision"] == pytest.approx(2 / 3) and m["recall"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(2 / 3)


@pytest.mark.parametrize("model", ["simplenet", "improved"])
def test_one_short_epoch_writes_every_output(tiny_data, tmp_path, model) -> None:
    out = tmp_path / model
    train.main(["--data", str(tiny_data), "--model", model, "--epochs", "1", "--batch-size", "4",
                "--image-size", "32", "--device", "cpu", "--out", str(out), "--quiet"])
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUTS)
    metrics = json.loads((out / "metrics.json").read_text())
    for key in ("accuracy", "precision", "recall", "f1"):
        assert 0 <= metrics[key] <= 1
    cm = np.array(metrics["confusion_matrix"])
    assert cm.shape == (2, 2) and cm.sum() == 6 and cm.sum(axis=1).tolist() == [3, 3]
    assert metrics["trainable_parameters"] == models.trainable_parameters(models.build_model(model, 32))
    assert [h["epoch"] for h in metrics["history"]] == [1]
    assert set(metrics["history"][0]) >= {"train_loss", "val_loss", "val_accuracy"}
    checkpoint = torch.load(out / "best.pt")
    assert checkpoint["epoch"] == 1 and "model" in checkpoint
    for png in ("samples.png", "curves.png", "confusion_matrix.png", "misclassified.png"):
        assert (out / png).read_bytes().startswith(b"\x89PNG")
    assert all(f.read_bytes().startswith(b"\xff\xd8") for f in tiny_data.rglob("*.jpeg"))  # data untouched


def test_training_learns_the_synthetic_defects(tiny_data, tmp_path) -> None:
    """Enough epochs on 10 images to fit them: the loss falls (a broken loop would not)."""
    torch.manual_seed(0)
    train_ds, val_ds = data.load_datasets(tiny_data, 32)
    history = train.train(models.build_model("improved", 32), train_ds, val_ds, epochs=15,
                          batch_size=5, lr=3e-3, device=torch.device("cpu"),
                          checkpoint=tmp_path / "best.pt", progress=False)
    assert history[-1]["train_loss"] < 0.6 * history[0]["train_loss"]


def test_missing_folder_prints_the_expected_tree_and_the_source(tmp_path) -> None:
    with pytest.raises(data.DatasetLayoutError) as error:
        data.load_datasets(tmp_path / "nowhere", 32)
    message = str(error.value)
    assert "does not exist" in message and "def_front/" in message and "ok_front/" in message
    assert "kaggle.com" in message and "make_synthetic" in message


def test_wrong_layout_names_what_is_missing_and_spots_a_nested_folder(tiny_data, tmp_path) -> None:
    shutil.copytree(tiny_data, tmp_path / "casting_data")
    shutil.rmtree(tmp_path / "casting_data" / "test" / "ok_front")
    with pytest.raises(data.DatasetLayoutError, match=r"missing folder .*test/ok_front"):
        data.check_layout(tmp_path / "casting_data")
    shutil.copytree(tiny_data, tmp_path / "outer" / "casting_data")
    with pytest.raises(data.DatasetLayoutError, match=r"one level down: try --data .*outer/casting_data"):
        data.check_layout(tmp_path / "outer")


def test_corrupt_jpeg_is_named(tiny_data, tmp_path) -> None:
    root = shutil.copytree(tiny_data, tmp_path / "data")
    bad = root / "train" / "ok_front" / "cast_ok_0_0.jpeg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 this is not a jpeg")
    train_ds, _ = data.load_datasets(root, 32)
    index = next(i for i, (path, _) in enumerate(train_ds.samples) if path == str(bad))
    with pytest.raises(data.UnreadableImageError, match=r"cannot read image .*cast_ok_0_0.jpeg"):
        train_ds[index]


def test_cli_help_and_bad_arguments() -> None:
    result = subprocess.run([sys.executable, "-m", "examples.casting.train", "--help"],
                            capture_output=True, text=True, check=True)
    for flag in ("--data", "--model", "--epochs", "--batch-size", "--lr", "--image-size",
                 "--device", "--seed", "--out"):
        assert flag in result.stdout
    with pytest.raises(SystemExit):
        train.parse_args(["--data", "x", "--epochs", "0"])


def _check_minigrad_evaluation(tiny_data, out, model, capsys) -> None:
    from examples.casting import evaluate_minigrad
    result = evaluate_minigrad.evaluate(tiny_data, out, batch_size=4, compare_batch=3)
    assert result["images"] == 6 and result["labels_agree"] == 6
    assert result["max_probability_difference"] < 1e-5              # float32 twins
    assert result["minigrad_accuracy"] == result["pytorch_accuracy"]
    printed = capsys.readouterr().out
    assert "6/6 predicted labels agree" in printed and "compare: loss minigrad" in printed
    twin, state = evaluate_minigrad.load_twin(out / "minigrad.npz")
    assert state["name"] == model and state["image_size"] == 32


def test_export_minigrad_twin_predicts_the_same_labels(tiny_data, tmp_path, capsys) -> None:
    out = tmp_path / "simplenet"
    train.main(["--data", str(tiny_data), "--model", "simplenet", "--epochs", "1", "--batch-size", "4",
                "--image-size", "32", "--device", "cpu", "--out", str(out), "--quiet", "--export-minigrad"])
    assert (out / "minigrad.npz").exists()
    _check_minigrad_evaluation(tiny_data, out, "simplenet", capsys)


def test_improved_model_exports_with_its_hand_written_pooling(tiny_data, tmp_path, capsys) -> None:
    """ImprovedNet's GlobalAvgMaxPool (mean, amax, torch.cat) is traced; no training needed."""
    torch.manual_seed(0)
    model = models.build_model("improved", 32).eval()
    torch.save(dict(model=model.state_dict()), tmp_path / "best.pt")
    train.export_minigrad(model, "improved", 32, tmp_path / "minigrad.npz")
    _check_minigrad_evaluation(tiny_data, tmp_path, "improved", capsys)
