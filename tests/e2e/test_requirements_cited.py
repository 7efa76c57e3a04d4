"""Every requirement of docs/requirements.md is cited by an end-to-end test.

A test cites an ID in its name (``..._AP_7b``) or docstring (``AP-7b``). The
cited tests are the ones that run over HTTP against the started system, so a
green suite means every requirement was walked through the gateway.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
E2E = Path(__file__).resolve().parent
ID_RE = re.compile(r"(?<![A-Za-z])(ID|AP|PQ|RV)[-_](\d+)([a-c]?)(?![0-9])")


def _requirement_ids() -> set[str]:
    text = (ROOT / "docs" / "requirements.md").read_text(encoding="utf-8")
    return {f"{k}-{n}{s}" for k, n, s in re.findall(r"^\s*- ((?:ID|AP|PQ|RV))-(\d+)([a-c]?) ", text, re.M)}


def _cited_by_tests() -> dict[str, set[str]]:
    """ID -> the e2e tests citing it (module::function)."""
    cited: dict[str, set[str]] = {}
    for path in sorted(E2E.glob("test_*.py")):
        if path.name == Path(__file__).name:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                text = node.name + " " + (ast.get_docstring(node) or "")
                for kind, num, sub in ID_RE.findall(text):
                    for rid in {f"{kind}-{num}{sub}", f"{kind}-{num}"}:
                        cited.setdefault(rid, set()).add(f"{path.name}::{node.name}")
    return cited


def test_catalogue_lists_the_requirements():
    ids = _requirement_ids()
    # The four families and the three route ways are all there.
    assert {"ID-1", "AP-1", "PQ-1", "RV-1", "AP-7a", "AP-7b", "AP-7c"} <= ids


def test_every_requirement_is_cited_by_an_end_to_end_test():
    cited = _cited_by_tests()
    missing = sorted(_requirement_ids() - cited.keys())
    assert not missing, f"requirements no end-to-end test cites: {missing}"


def test_no_end_to_end_test_cites_an_unknown_requirement():
    unknown = sorted(set(_cited_by_tests()) - _requirement_ids()
                     - {rid.rstrip("abc") for rid in _requirement_ids()})
    assert not unknown, f"cited IDs that docs/requirements.md does not define: {unknown}"
