import numpy as np

from fmcnn.cli import main


def test_train_evaluate_plot_end_to_end(tmp_path, capsys, monkeypatch):
    import fmcnn.train
    from fmcnn.data import load_fashion_mnist
    images, labels = load_fashion_mnist("train")
    real_load = load_fashion_mnist
    monkeypatch.setattr("fmcnn.data.load_fashion_mnist",
                        lambda split, **k: (images[:1000], labels[:1000]) if split == "train" else real_load(split, **k))
    run = tmp_path / "run"
    assert main(["train", "--out", str(run), "--steps", "40", "--checkpoint-every", "20", "--quiet"]) == 0
    assert main(["train", "--out", str(run), "--steps", "40", "--quiet"]) == 1          # no silent overwrite
    assert "already holds a training run" in capsys.readouterr().err
    assert main(["evaluate", str(run)]) == 0
    out = capsys.readouterr().out
    assert "      20" in out and "      40" in out and "Ankle boot" in out
    assert main(["plot", str(run)]) == 0
    assert (run / "confusion_matrix.png").stat().st_size > 10_000 and (run / "curves.png").exists()


def test_summary(capsys):
    assert main(["summary"]) == 0
    assert "Total parameters: 61,750" in capsys.readouterr().out


def test_train_width_option(tmp_path, monkeypatch):
    from fmcnn.data import load_fashion_mnist
    from fmcnn.train import read_log
    images, labels = load_fashion_mnist("train")
    monkeypatch.setattr("fmcnn.data.load_fashion_mnist", lambda split, **k: (images[:500], labels[:500]))
    run = tmp_path / "wide"
    assert main(["train", "--out", str(run), "--steps", "5", "--width", "2", "--quiet"]) == 0
    import json
    assert json.loads((run / "config.json").read_text())["width"] == 2
    assert len(read_log(run)["step"]) == 5


def test_train_fused_option(tmp_path, monkeypatch):
    from fmcnn.data import load_fashion_mnist
    images, labels = load_fashion_mnist("train")
    monkeypatch.setattr("fmcnn.data.load_fashion_mnist", lambda split, **k: (images[:500], labels[:500]))
    import json
    for flag, expected in (("--fused", True), ("--no-fused", False)):
        run = tmp_path / flag
        assert main(["train", "--out", str(run), "--steps", "3", flag, "--quiet"]) == 0
        assert json.loads((run / "config.json").read_text())["fused"] is expected


def test_resume_if_exists_starts_then_continues(tmp_path, monkeypatch):
    from fmcnn.data import load_fashion_mnist
    from fmcnn.train import read_log
    images, labels = load_fashion_mnist("train")
    monkeypatch.setattr("fmcnn.data.load_fashion_mnist", lambda split, **k: (images[:500], labels[:500]))
    run = tmp_path / "run"
    assert main(["train", "--out", str(run), "--steps", "4", "--checkpoint-every", "2", "--resume-if-exists", "--quiet"]) == 0
    assert main(["train", "--out", str(run), "--steps", "6", "--resume-if-exists", "--quiet"]) == 0
    assert list(read_log(run)["step"]) == [1, 2, 3, 4, 5, 6]
