"""The demo (``python -m skloss``): its report and its learning-rate figure."""

import io
import sys

import pytest

from skloss.__main__ import main


def _run(argv):
    out = io.StringIO()
    search = main(argv, out=out)
    return search, out.getvalue()


def test_the_figure_draws_every_learning_rate(tmp_path):
    image = pytest.importorskip("matplotlib.image")
    path = tmp_path / "lr.png"
    search, report = _run(["--figure", str(path)])
    assert f"written to {path}" in report
    pixels = image.imread(path)
    assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert len(search.cv_results_["params"]) == 5


def test_no_figure_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _, report = _run(["--no-figure"])
    assert "Best learning rate" in report
    assert list(tmp_path.iterdir()) == []


def test_without_matplotlib_the_demo_runs_and_says_how(tmp_path, monkeypatch):
    # None in sys.modules makes `import matplotlib` raise ImportError.
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    path = tmp_path / "lr.png"
    _, report = _run(["--figure", str(path)])
    assert "Best learning rate" in report
    assert 'pip install "skloss[plot]"' in report
    assert not path.exists()
