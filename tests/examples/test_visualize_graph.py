"""examples/visualize_graph.py end to end: four graphs, as SVG and PNG, rendered with dot."""
from __future__ import annotations

from examples.visualize_graph import main


def test_the_example_draws_the_three_graphs(tmp_path, capsys) -> None:
    main(["--out", str(tmp_path)])
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(f"{g}.{s}" for g in ("expression", "cnn", "cnn_grads", "resnet") for s in ("svg", "png"))
    cnn, grads = (tmp_path / "cnn.svg").read_text(), (tmp_path / "cnn_grads.svg").read_text()
    for text in ("0: Conv2d", "conv2d padding=1", "max_pool2d kernel_size=2", "0.weight",
                 "(8, 8, 8, 16) float32", "saved for backward"):
        assert text in cnn, text
    assert grads.count("|grad|") == 8 + 13                  # every parameter and every op
    assert (tmp_path / "cnn.png").read_bytes().startswith(b"\x89PNG")
    assert "wrote" in capsys.readouterr().out
    resnet = (tmp_path / "resnet.svg").read_text()
    assert resnet.count(">add<") == 2                       # one skip connection per block
    assert "block2.shortcut.0.weight" in resnet
