"""Importing a part of fmcnn loads only what that part needs (issue 17): no exercise registry, no
fused network (its helper thread and at-fork hook), no visualization, until someone asks for them."""
import json
import subprocess
import sys

import pytest

UNWANTED = ("fmcnn.exercises", "fmcnn.fast", "fmcnn.viz")


def loaded_after(code):
    """The fmcnn modules in sys.modules after running ``code`` in a fresh interpreter."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(m for m in sys.modules if m.startswith('fmcnn'))))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    return json.loads(out.splitlines()[-1])


@pytest.mark.parametrize("module", ["fmcnn", "fmcnn.nn", "fmcnn.train"])
def test_import_loads_no_unrelated_feature(module):
    loaded = loaded_after(f"import {module}")
    assert module in loaded
    assert [m for m in loaded if m.startswith(UNWANTED)] == []


def test_nn_loads_only_itself():
    assert {m for m in loaded_after("import fmcnn.nn") if not m.startswith("fmcnn.nn.")} == {"fmcnn", "fmcnn.nn"}


def test_fmcnn_check_is_loaded_on_first_use():
    loaded = loaded_after("import fmcnn\nfirst = fmcnn.check\nfrom fmcnn import check\nimport fmcnn.exercises\n"
                          "assert first is check is fmcnn.exercises.check and 'check' in dir(fmcnn)")
    assert "fmcnn.exercises.checker" in loaded


def test_unknown_attribute_is_an_attribute_error():
    import fmcnn
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        fmcnn.nope   # noqa: B018
