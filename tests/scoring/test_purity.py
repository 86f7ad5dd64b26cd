"""scoring/ is a pure library: no I/O, no clock, no instrument-id branches."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import scoring
from scoring import evaluate
from tests.scoring.factories import TODAY, ratings_frame, sessions_for

SOURCES = sorted(Path(scoring.__file__).parent.glob("*.py"))
ALLOWED_TOP_LEVEL = {
    "__future__", "bisect", "collections", "dataclasses", "datetime", "enum", "functools",
    "itertools", "math", "numbers", "types", "typing", "numpy", "pandas", "scoring",
}  # fmt: skip
FORBIDDEN_CALLS = ("datetime.now", "date.today", "time.time", "open(", "print(", "logging")


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_scoring_imports_only_stdlib_numpy_and_pandas(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            continue
        for name in names:
            assert name.split(".")[0] in ALLOWED_TOP_LEVEL, f"{path.name} imports {name}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_scoring_reads_no_clock_and_does_no_io(path):
    text = path.read_text()
    for call in FORBIDDEN_CALLS:
        assert call not in text, f"{path.name} uses {call}"


@pytest.mark.parametrize("path", [p for p in SOURCES if p.name != "instruments.py"])
def test_no_rule_branches_on_an_instrument_id(path):
    text = path.read_text()
    assert '"alliance4"' not in text and '"wai12"' not in text


def test_wai12_uses_its_own_thresholds_from_the_registry():
    ratings = ratings_frame([60, 60, 60, 30], instrument="wai12")
    flags = evaluate(ratings, sessions_for(ratings), today=TODAY).flags
    at_four = flags[flags["session_number"] == 4]
    low_items = at_four.loc[at_four["rule"] == "item_low", "explanation"].tolist()
    assert len(low_items) == 1 and "(2.5 of 5)" in low_items[0]  # every item 2.5 < 3
    assert "below_cutoff" in set(at_four["rule"])  # 30 < 36
    ceiling = flags.loc[flags["rule"] == "ceiling_no_variance", "session_number"].tolist()
    assert ceiling == [3]  # 60 is the wai12 maximum
