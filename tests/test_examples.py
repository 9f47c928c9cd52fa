"""Every script in examples/ and the demo run on their own."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


def _run(args):
    env = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=300,
    )


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(script):
    proc = _run([str(script)])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip(), f"{script.name} printed nothing"


def test_examples_exist():
    assert EXAMPLES, "examples/ must hold at least one script"


def test_demo_prints_cv_score_and_grid_table(tmp_path):
    figure = tmp_path / "lr.png"
    proc = _run(["-m", "skloss", "--figure", str(figure)])
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "cross-validated accuracy" in out
    assert "learning rate" in out and "mean score" in out and "epochs" in out
    rows = [line for line in out.splitlines() if line.strip().startswith("auto")]
    assert rows, out
    assert figure.stat().st_size > 0 and str(figure) in out
