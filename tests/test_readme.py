"""The README's example runs, without a single warning (issue 11, item 12)."""

import re
import warnings
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_example_runs_without_warnings(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "README.md has no python example"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for code in blocks:
            exec(compile(code, str(README), "exec"), {"__name__": "readme"})
    assert "gdlogisticclassifier__" in capsys.readouterr().out
