"""minigrad.viz: graphs rendered for real with Graphviz's dot (installed by `make test`)."""
from __future__ import annotations

import json

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
from minigrad import nn, viz


def rendered(dot) -> tuple[dict, list, list]:
    """Render with dot to JSON: (nodes by name, edges as (tail, head) names, clusters)."""
    layout = json.loads(dot.pipe(format="json"))
    objects = layout["objects"]
    nodes = {o["name"]: o for o in objects if "nodes" not in o}
    clusters = [o for o in objects if "nodes" in o]
    edges = [(objects[e["tail"]]["name"], objects[e["head"]]["name"]) for e in layout.get("edges", [])]
    return nodes, edges, clusters


def label(node: dict) -> str:
    return node["label"].replace("\\n", "\n")


def small_expression():
    """y = sum((x * w) + 1): leaves x (input) and w (parameter), one constant, three ops."""
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    w = nn.Parameter(mg.tensor([0.5, -1.0]))
    return (x * w + 1).sum(), x, w


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3, stride=2, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.head = nn.Linear(16, 3)

    def forward(self, x):
        return self.head(self.features(x).flatten(1))


def net_loss():
    mg.manual_seed(0)
    model = Net()
    x = mg.randn(2, 8, 8, 1)
    return F.cross_entropy(model(x), mg.tensor([0, 2])), model


def test_small_graph_has_the_expected_nodes_and_edges() -> None:
    y, x, w = small_expression()
    nodes, edges, clusters = rendered(viz.make_dot(y, params={"w": w}))
    assert sorted(nodes) == ["const0", "leaf0", "leaf1", "op0", "op1", "op2", "output"]
    assert sorted(edges) == sorted([("leaf0", "op0"), ("leaf1", "op0"), ("op0", "op1"),
                                    ("const0", "op1"), ("op1", "op2"), ("op2", "output")])
    assert clusters == []
    assert [label(nodes[f"op{i}"]) for i in range(3)] == ["mul", "add", "sum"]
    assert label(nodes["leaf0"]) == "input (requires grad)\n(2, 2) float32"
    assert label(nodes["leaf1"]) == "w\n(2,) float32"
    assert label(nodes["const0"]) == "tensor\n() float32"
    assert label(nodes["output"]) == "output\n() float32"


def test_leaves_are_styled_by_kind() -> None:
    y, _, _ = small_expression()
    nodes, _, _ = rendered(viz.make_dot(y, params=None))
    assert nodes["leaf1"]["label"].startswith("input")            # unnamed: an input
    styles = {name: (node.get("style"), node.get("fillcolor")) for name, node in nodes.items()}
    y, _, w = small_expression()
    named, _, _ = rendered(viz.make_dot(y, params={"w": w}))
    assert named["leaf1"]["fillcolor"] == viz.STYLE["parameter"]["fillcolor"]
    assert styles["leaf0"][1] == viz.STYLE["input"]["fillcolor"]
    assert styles["const0"][0] == "dashed"


def test_op_labels_carry_name_non_default_attributes_and_edge_shapes() -> None:
    loss, model = net_loss()
    nodes, edges, _ = rendered(viz.make_dot(loss, dict(model.named_parameters())))
    labels = [label(n) for n in nodes.values()]
    assert "conv2d stride=2 padding=1" in labels
    assert "max_pool2d kernel_size=2" in labels                    # stride/padding: defaults
    assert "log_softmax dim=1" in labels
    assert "features.0.weight\n(3, 3, 1, 4) float32" in labels
    assert "head.weight\n(16, 3) float32" in labels
    source = viz.make_dot(loss, dict(model.named_parameters())).source
    assert 'label="(2, 4, 4, 4) float32"' in source                 # conv output, on its edge
    no_shapes = viz.make_dot(loss, dict(model.named_parameters()), show_shapes=False).source
    assert "(2, 4, 4, 4) float32" not in no_shapes


def test_ops_of_a_submodule_sit_in_a_cluster_named_after_it() -> None:
    loss, model = net_loss()
    nodes, _, clusters = rendered(viz.make_dot(loss, dict(model.named_parameters())))
    by_label = {c["label"]: sorted(label(nodes[n]) for n in _names(c, nodes)) for c in clusters}
    assert by_label["features.0: Conv2d"] == ["conv2d stride=2 padding=1",
                                              "features.0.bias\n(4,) float32",
                                              "features.0.weight\n(3, 3, 1, 4) float32"]
    assert by_label["features.1: ReLU"] == ["relu"]
    assert by_label["features.2: MaxPool2d"] == ["max_pool2d kernel_size=2"]
    assert by_label["head: Linear"] == ["head.bias\n(3,) float32", "head.weight\n(16, 3) float32", "linear"]
    clustered = {n for c in clusters for n in _names(c, nodes)}
    assert {label(nodes[n]) for n in set(nodes) - clustered} >= {"flatten start_dim=1", "nll_loss", "mean"}


def _names(cluster: dict, nodes: dict) -> list[str]:
    names = [name for name in nodes if "_gvid" in nodes[name]]
    by_gvid = {nodes[name]["_gvid"]: name for name in names}
    return [by_gvid[i] for i in cluster["nodes"] if i in by_gvid]


def test_gradient_norms_annotate_parameters_and_ops_with_colours() -> None:
    loss, model = net_loss()
    params = dict(model.named_parameters())
    with viz.record_grad_norms():
        loss.backward()
    nodes, _, _ = rendered(viz.make_dot(loss, params, show_grads=True))
    weight = next(n for n in nodes.values() if n["label"].startswith("head.weight"))
    norm = np.linalg.norm(params["head.weight"].grad.numpy())
    assert f"|grad| {norm:.2e}" in label(weight)
    assert weight["fillcolor"] == viz.norm_colour(norm)
    mean = next(n for n in nodes.values() if n["label"].startswith("mean"))
    assert "|grad| 1.00e+00" in label(mean)                         # d loss / d loss
    assert "legend" in nodes


def test_without_recorded_norms_only_parameters_are_annotated_and_the_caption_says_why() -> None:
    loss, model = net_loss()
    loss.backward()
    dot = viz.make_dot(loss, dict(model.named_parameters()), show_grads=True)
    nodes, _, _ = rendered(dot)
    assert "|grad|" in label(next(n for n in nodes.values() if n["label"].startswith("head.bias")))
    assert "|grad|" not in label(next(n for n in nodes.values() if n["label"].startswith("linear")))
    assert "record_grad_norms" in dot.source


def test_norm_colours_run_from_vanishing_blue_to_exploding_red() -> None:
    assert viz.norm_colour(1e-9) == viz.norm_colour(0.0) == viz.NORM_COLOURS[0]
    assert viz.norm_colour(1e5) == viz.NORM_COLOURS[-1]
    assert viz.norm_colour(1e-6) != viz.norm_colour(1e-3) != viz.norm_colour(1.0)


def test_saved_bytes_per_op_and_in_total() -> None:
    y, x, w = small_expression()
    dot = viz.make_dot(y, params={"w": w}, show_saved=True)
    nodes, _, _ = rendered(dot)
    assert label(nodes["op0"]) == "mul\nsaved 24 B"                 # x (4) and w (2), float32
    assert label(nodes["op1"]) == "add" and label(nodes["op2"]) == "sum"   # nothing saved
    assert "saved for backward: 24 B in total" in dot.source


def test_the_source_is_deterministic() -> None:
    def source() -> str:
        loss, model = net_loss()                   # a fresh graph: new objects, new ids
        return viz.make_dot(loss, dict(model.named_parameters()), show_saved=True).source
    first = source()
    assert first == source()
    assert "op0" in first and "cluster_" in first


def test_a_leaf_alone_and_bad_arguments() -> None:
    nodes, edges, _ = rendered(viz.make_dot(mg.ones(3, requires_grad=True)))
    assert edges == [("leaf0", "output")]
    with pytest.raises(TypeError, match="make_dot: root must be a Tensor"):
        viz.make_dot(np.ones(3))
    with pytest.raises(TypeError, match="make_dot: params must map names to Tensors"):
        viz.make_dot(mg.ones(3, requires_grad=True), params={"w": np.ones(3)})


@pytest.mark.parametrize("suffix, magic", [(".svg", b"<?xml"), (".png", b"\x89PNG"), (".pdf", b"%PDF")])
def test_save_picks_the_format_from_the_suffix(tmp_path, suffix, magic) -> None:
    y, _, _ = small_expression()
    path = viz.save(viz.make_dot(y), tmp_path / "sub" / f"graph{suffix}")
    assert path.read_bytes().startswith(magic)
    assert [p.name for p in path.parent.iterdir()] == [path.name]   # no temporary left


def test_save_refuses_an_unknown_suffix(tmp_path) -> None:
    y, _, _ = small_expression()
    with pytest.raises(ValueError, match=r"viz.save: cannot tell the format .*\.svg, \.png, \.pdf"):
        viz.save(viz.make_dot(y), tmp_path / "graph.jpeg")


def test_without_dot_building_works_and_rendering_says_how_to_install(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PATH", "")
    y, _, _ = small_expression()
    dot = viz.make_dot(y)                                           # no dot needed
    assert "digraph" in dot.source
    for render in (lambda: viz.save(dot, tmp_path / "g.svg"), lambda: dot._repr_mimebundle_(),
                   lambda: dot.render(tmp_path / "g", format="png")):
        with pytest.raises(viz.GraphvizNotFoundError, match="apt-get install graphviz") as error:
            render()
        assert "brew install graphviz" in str(error.value) and "conda" in str(error.value)


def test_jupyter_displays_the_graph_inline() -> None:
    y, _, _ = small_expression()
    bundle = viz.make_dot(y)._repr_mimebundle_()
    assert bundle["image/svg+xml"].lstrip().startswith("<?xml")


def test_mg_viz_is_reachable_from_the_package() -> None:
    assert mg.viz.make_dot is viz.make_dot


def test_a_graph_built_before_viz_is_imported_draws_with_its_shapes() -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[2])            # this checkout's minigrad
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    script = ("import sys, minigrad as mg\n"
              "y = (mg.ones(2, 3, requires_grad=True) * 2).sum(dim=1)\n"
              "assert 'minigrad.viz' not in sys.modules\n"
              "print(mg.viz.make_dot(y).source)\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, env=env).stdout
    assert "(2, 3) float32" in out and "sum dim=1" in out
