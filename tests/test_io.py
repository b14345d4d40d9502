"""save and load: exact round trips, refusals at save time, atomic writes, killed writers."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad import io, nn, optim

REPO = Path(__file__).resolve().parents[1]


def round_trip(obj, tmp_path: Path):
    mg.save(obj, tmp_path / "ck.npz")
    return mg.load(tmp_path / "ck.npz")


def test_save_and_load_round_trip_a_model(tmp_path: Path) -> None:
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    loaded = round_trip(model.state_dict(), tmp_path)
    assert list(loaded) == list(model.state_dict())
    other = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    other.load_state_dict(loaded)
    np.testing.assert_array_equal(other[0].weight.numpy(), model[0].weight.numpy())


def test_a_slash_in_a_key_does_not_collide_with_a_nested_dict(tmp_path: Path) -> None:
    loaded = round_trip({"a/b": np.ones(2), "a": {"b": np.zeros(2)}}, tmp_path)
    assert loaded["a/b"].tolist() == [1, 1] and loaded["a"]["b"].tolist() == [0, 0]


def test_keys_keep_their_types(tmp_path: Path) -> None:
    obj = {"s": 1, 2: "int", 2.5: "float", (1, "x", (2.0, None)): "tuple", None: "none", True: "bool"}
    loaded = round_trip(obj, tmp_path)
    assert loaded == obj
    assert [type(k) for k in loaded] == [type(k) for k in obj]


def test_values_keep_their_types_and_bits(tmp_path: Path) -> None:
    obj = {"f": 0.1, "nan": float("nan"), "neg_zero": -0.0, "big": 2 ** 70, "b": False, "n": None, "s": "é",
           "tuple": (1, [2, (3,)]), "f32": np.float32(1.5), "i8": np.int8(-3), "bool_array": np.array([True]),
           "empty": np.zeros((0, 3), np.float32), "t": mg.tensor([1.0, 2.0], requires_grad=True),
           "p": nn.Parameter(mg.ones(2))}
    loaded = round_trip(obj, tmp_path)
    assert loaded["f"] == 0.1 and np.isnan(loaded["nan"]) and str(loaded["neg_zero"]) == "-0.0"
    assert loaded["big"] == 2 ** 70 and loaded["b"] is False and loaded["n"] is None and loaded["s"] == "é"
    assert loaded["tuple"] == (1, [2, (3,)])
    assert type(loaded["f32"]) is np.float32 and loaded["f32"] == 1.5 and type(loaded["i8"]) is np.int8
    assert loaded["bool_array"].dtype == bool and loaded["empty"].shape == (0, 3)
    assert type(loaded["t"]) is mg.Tensor and loaded["t"].requires_grad and loaded["t"].tolist() == [1, 2]
    assert type(loaded["p"]) is nn.Parameter and loaded["p"].requires_grad


def test_an_optimizer_and_scheduler_checkpoint_round_trips(tmp_path: Path) -> None:
    p = nn.Parameter(mg.ones(2))
    p.grad = mg.ones(2)
    opt = optim.Adam([p], lr=0.1)
    scheduler = optim.lr_scheduler.MultiStepLR(opt, [1, 3, 3])
    opt.step()
    scheduler.step()
    loaded = round_trip({"opt": opt.state_dict(), "sched": scheduler.state_dict()}, tmp_path)
    assert loaded["sched"] == scheduler.state_dict()
    assert list(loaded["opt"]["state"]) == [0] and loaded["opt"]["param_groups"][0]["betas"] == (0.9, 0.999)


@pytest.mark.parametrize("obj, error, message", [
    (nn.Linear(2, 2), TypeError, r"save: cannot store a value of type Linear at the top level; save its state "
                                 r"instead: mg.save\(model.state_dict\(\), path\)"),
    ({"model": nn.Linear(2, 2)}, TypeError, r"type Linear at /model; .*model.state_dict\(\)"),
    ({"x": np.array([1, "a"], dtype=object)}, TypeError, r"save: the array at /x has dtype object, which holds "
                                                         r"Python objects and cannot be stored without pickle"),
    ({"x": np.ma.masked_array([1, 2])}, TypeError, r"the array at /x is a MaskedArray"),
    ({"s": {1, 2}}, TypeError, r"save: cannot store a value of type set at /s"),
    ({"c": 1j}, TypeError, r"type complex at /c"),
    ({"a": [{frozenset(): 1}]}, TypeError, r"save: cannot store the dict key frozenset\(\) \(frozenset\) at /a/0"),
    ({"f": lambda: 0}, TypeError, r"type function at /f"),
])
def test_what_cannot_round_trip_is_refused_at_save_time(obj, error, message, tmp_path: Path) -> None:
    with pytest.raises(error, match=message):
        mg.save(obj, tmp_path / "ck.npz")
    assert os.listdir(tmp_path) == []                      # nothing written


def test_subclasses_that_would_come_back_as_their_base_are_refused(tmp_path: Path) -> None:
    from collections import namedtuple

    Point = namedtuple("Point", "x y")
    with pytest.raises(TypeError, match=r"save: cannot store the Point at /p \(it would come back as a plain tuple\)"):
        mg.save({"p": Point(1, 2)}, tmp_path / "ck.npz")


def test_a_container_that_holds_itself_is_refused(tmp_path: Path) -> None:
    loop: dict = {"a": []}
    loop["a"].append(loop)
    with pytest.raises(ValueError, match=r"save: the object contains itself at /a/0"):
        mg.save(loop, tmp_path / "ck.npz")


@pytest.mark.parametrize("make_path, error, message", [
    (lambda d: None, TypeError, r"save: path must be a str or os.PathLike, got NoneType"),
    (lambda d: d, IsADirectoryError, r"save: .* is a directory; give a file name, e.g. .*checkpoint.npz"),
])
def test_bad_save_paths(make_path, error, message, tmp_path: Path) -> None:
    with pytest.raises(error, match=message):
        mg.save({"w": np.ones(1)}, make_path(tmp_path))


def test_bad_load_paths_and_foreign_files(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"load: path must be a str or os.PathLike, got NoneType"):
        mg.load(None)
    with pytest.raises(IsADirectoryError, match=r"load: .* is a directory"):
        mg.load(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"load: no such file"):
        mg.load(tmp_path / "missing.npz")
    np.save(tmp_path / "x.npy", np.ones(2))
    with pytest.raises(ValueError, match=r"load: .*x.npy is a NumPy .npy file \(written by np.save\), not a "
                                         r"minigrad checkpoint; read it with numpy.load"):
        mg.load(tmp_path / "x.npy")
    with zipfile.ZipFile(tmp_path / "model.pt", "w") as archive:
        archive.writestr("model/data.pkl", b"\x80\x02")
    with pytest.raises(ValueError, match=r"not a readable minigrad checkpoint .*it looks like a PyTorch file"):
        mg.load(tmp_path / "model.pt")


def test_truncated_and_foreign_files_give_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "ck.npz"
    mg.save({"w": np.ones(1000)}, path)
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(ValueError, match=r"load: .*ck.npz is not a readable minigrad checkpoint"):
        mg.load(path)
    foreign = tmp_path / "other.npz"
    np.savez(foreign, w=np.ones(3))
    with pytest.raises(ValueError, match="not a readable minigrad checkpoint"):
        mg.load(foreign)
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(ValueError, match="not a readable minigrad checkpoint"):
        mg.load(tmp_path / "text.npz")


def test_files_of_the_first_format_still_load(tmp_path: Path) -> None:
    header = {"format": "minigrad-checkpoint-1", "names": {"/w": "a0"},
              "skeleton": {"dict": [["w", "str", {"array": "/w"}], ["3", "int", {"value": 1.5}]]}}
    np.savez(tmp_path / "old.npz", __minigrad_structure__=np.array(json.dumps(header)), a0=np.ones(2))
    assert mg.load(tmp_path / "old.npz").keys() == {"w", 3}


def test_load_accepts_pytorchs_keywords(tmp_path: Path) -> None:
    mg.save({"w": np.ones(2)}, tmp_path / "ck.npz")
    for kwargs in (dict(weights_only=True), dict(weights_only=False), dict(map_location="cpu")):
        assert mg.load(tmp_path / "ck.npz", **kwargs)["w"].tolist() == [1, 1]
    with pytest.raises(ValueError, match=r"load: minigrad runs on the CPU only; map_location must be None or 'cpu'"):
        mg.load(tmp_path / "ck.npz", map_location="cuda:0")
    with pytest.raises(TypeError, match=r"load: weights_only must be True, False or None, got 'yes'"):
        mg.load(tmp_path / "ck.npz", weights_only="yes")


def test_a_crash_mid_save_keeps_the_previous_checkpoint(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "ck.npz"
    mg.save({"w": np.zeros(3)}, path)

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(io.os, "fsync", crash)
    with pytest.raises(KeyboardInterrupt):
        mg.save({"w": np.ones(3)}, path)
    np.testing.assert_array_equal(mg.load(path)["w"], np.zeros(3))
    assert os.listdir(tmp_path) == ["ck.npz"]                 # no temp file left behind


def test_the_temp_file_of_a_killed_writer_is_removed_by_the_next_save(tmp_path: Path) -> None:
    path = tmp_path / "ck.npz"
    writer = textwrap.dedent(f"""
        import sys, time
        from minigrad import io
        def write(f):
            f.write(b"x" * 100000)
            f.flush()
            print("writing", flush=True)
            time.sleep(60)
        io.atomic_write({str(path)!r}, write)
    """)
    for _ in range(3):                                        # three writers killed mid-write
        process = subprocess.Popen([sys.executable, "-c", writer], stdout=subprocess.PIPE,
                                   env={**os.environ, "PYTHONPATH": str(REPO)})
        assert process.stdout.readline() == b"writing\n"
        process.send_signal(signal.SIGKILL)
        process.wait()
        process.stdout.close()
    # each writer removed the file of the one killed before it: one temp file, not three
    assert len([name for name in os.listdir(tmp_path) if name.endswith(".tmp")]) == 1
    running = tmp_path / f".ck.npz.{os.getpid()}.inprogress.tmp"      # a live writer's file stays
    running.write_bytes(b"")
    mg.save({"w": np.ones(2)}, path)
    assert sorted(os.listdir(tmp_path)) == sorted(["ck.npz", running.name])
    assert mg.load(path)["w"].tolist() == [1, 1]


def test_saved_files_get_the_usual_permissions(tmp_path: Path) -> None:
    mg.save({"w": np.ones(1)}, tmp_path / "ck.npz")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "ck.npz").stat().st_mode & 0o777 == 0o666 & ~umask
