"""The book's configuration, front page and cover script.

The full check of the book is `jupyter-book build -W -n --keep-going .` (run by
`make test`); these tests catch the cheap mistakes early and without Sphinx.
"""
import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest

yaml = pytest.importorskip("yaml")  # PyYAML comes with jupyter-book

ROOT = Path(__file__).resolve().parent.parent
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf8"))
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf8"))


def toc_files():
    files = [TOC["root"]]
    for part in TOC.get("parts", []):
        files += [chapter["file"] for chapter in part["chapters"]]
    return files


def test_config_is_valid_for_jupyter_book():
    jb_config = pytest.importorskip("jupyter_book.config")
    errors = list(jb_config.get_validator().iter_errors(CONFIG))
    assert not errors, [e.message for e in errors]


def test_book_identity_and_logo():
    assert CONFIG["title"] and CONFIG["author"] == "The fmcnn contributors"
    logo = ROOT / CONFIG["logo"]
    assert logo.is_file() and logo.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_failing_notebooks_fail_the_build():
    execute = CONFIG["execute"]
    assert execute["allow_errors"] is False
    assert execute["raise_on_error"] is True
    assert execute["execute_notebooks"] in ("cache", "force", "auto")
    assert execute["timeout"] >= 60


def test_launch_buttons_and_repository():
    assert CONFIG["repository"]["url"] == "https://github.com/fmcnn/fmcnn"
    assert CONFIG["repository"]["branch"] == "main"
    assert CONFIG["launch_buttons"]["binderhub_url"].startswith("https://")
    assert CONFIG["launch_buttons"]["colab_url"].startswith("https://")
    assert CONFIG["sphinx"]["config"]["html_theme_options"]["use_download_button"] is True


def test_only_toc_files_are_built_and_stray_folders_excluded():
    assert CONFIG["only_build_toc_files"] is True
    excluded = set(CONFIG["exclude_patterns"])
    for folder in (".venv", "_build", "exercises", "solutions", "runs", "**/.ipynb_checkpoints", "README.md"):
        assert folder in excluded, folder
    # No chapter may sit inside an excluded folder.
    for entry in toc_files():
        assert entry.split("/")[0] not in excluded, entry


def test_intro_states_the_model_size_and_links_only_existing_pages():
    from fmcnn.models import lenet_bn

    intro = (ROOT / "book" / "intro.md").read_text(encoding="utf8")
    assert f"{lenet_bn().num_parameters():,} trainable parameters" in intro
    for target in re.findall(r"\{doc\}`(?:[^`<]*<)?([^`>]+)>?`", intro):
        assert (ROOT / "book" / f"{target}.ipynb").exists() or (ROOT / "book" / f"{target}.md").exists(), target
    for image in re.findall(r"```\{figure\} (\S+)", intro):
        assert (ROOT / "book" / image).is_file(), image


def test_cover_script_draws_both_pictures(tmp_path, synthetic_test):
    spec = importlib.util.spec_from_file_location("make_cover", ROOT / "book" / "make_cover.py")
    make_cover = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_cover)

    images, labels = synthetic_test   # what is drawn is not checked, only that both pictures are
    samples = make_cover.one_per_class(images, labels)
    assert samples.shape == (10, 28, 28)
    model = make_cover.feature_extractor()
    filters = make_cover.hand_made_filters()
    assert filters.shape == (6, 1, 5, 5)
    assert np.allclose(filters.sum(axis=(1, 2, 3)), 0, atol=1e-6)  # zero-mean: flat regions give 0
    make_cover.draw_logo(samples, model, tmp_path / "logo.png")
    make_cover.draw_cover(samples, model, tmp_path / "cover.png")
    for name in ("logo.png", "cover.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"
