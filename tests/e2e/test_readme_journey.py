"""The README's journey by hand, run as written against the started system.

The block between ``<!-- journey:start -->`` and ``<!-- journey:end -->`` is
run with bash, ``curl`` and ``jq``; only its first line (the gateway address
of ``make run``) is pointed at this stack, and ``make -s token AS=...`` is
answered from sessions signed in beforehand, as ``make token`` would.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_GATEWAY = "G=http://127.0.0.1:8080"


def _journey_block() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(r"<!-- journey:start -->\s*```bash\n(.*?)```\s*<!-- journey:end -->", text, re.S)
    assert m, "README.md has no journey block"
    return m.group(1)


def _make_shim(bin_dir: Path, tokens_dir: Path) -> None:
    """A ``make`` that answers ``make -s token AS=<persona>`` and nothing else."""
    shim = bin_dir / "make"
    shim.write_text('#!/bin/sh\n[ "$1" = "-s" ] && [ "$2" = "token" ] || exit 99\n'
                    f'exec cat "{tokens_dir}/${{3#AS=}}"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IEXEC)


def test_the_readme_journey_runs_as_written_AP_1_AP_2_AP_7b_RV_1_RV_3_PQ_1_PQ_3_PQ_9_RV_5_CT_1_CT_2_CT_3(
        stack, tmp_path):
    for tool in ("bash", "curl", "jq"):
        assert shutil.which(tool), f"{tool} is needed to run the README's journey"
    block = _journey_block()
    assert block.startswith(DEFAULT_GATEWAY + "\n")
    personas = set(re.findall(r"make -s token AS=([a-z-]+)", block))
    assert personas == {"carrier", "hebei-accept", "shandong-review", "jiangsu-review"}
    tokens, bin_dir = tmp_path / "tokens", tmp_path / "bin"
    tokens.mkdir()
    bin_dir.mkdir()
    for p in personas:
        (tokens / p).write_text(str(stack.sign_in(p)["accessToken"]))
    _make_shim(bin_dir, tokens)

    script = f"G={stack.gateway_url}\n" + block.removeprefix(DEFAULT_GATEWAY + "\n")
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    r = subprocess.run(["bash", "-eo", "pipefail", "-c", script], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"exit {r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    out = r.stdout
    # What the walk shows, in order: cargo padded to three decimals, 未受理 after
    # submit, 已发证 with three approvals, a verified permit, the clone, the abolition.
    assert '"weightTonnes":"30.000"' in out and '"widthMetres":"3.200"' in out
    assert '"stateLabel":"未受理"' in out
    issued = re.search(r'"stateLabel":"已发证","permitNumber":"(\d+)","progress":(\[.*?\])', out)
    assert issued, out
    assert issued.group(2).count('"decisionLabel":"同意"') == 3
    assert f'"permitNumber":"{issued.group(1)}"' in out.split("已发证", 1)[1]
    assert re.search(r'"result":"VERIFICATION_RESULT_(VALID|NOT_YET_VALID)"', out), out
    # The certificate downloaded as PDF and image, its page, the published keys (CT-1 to CT-3).
    assert '{"version":1,"state":"CERTIFICATE_STATE_CURRENT"' in out and "permit.pdf\npermit.png" in out
    assert re.search(r"<strong>有效( · 未到通行日期)?</strong>", out), out
    assert '"algorithm":"Ed25519"' in out
    assert "<strong>已废止</strong>" in out.split("PERMIT_STATE_ABOLISHED", 1)[1]
    assert '"stateLabel":"未提交"' in out  # 再来一件
    assert f'{{"number":"{issued.group(1)}","state":"PERMIT_STATE_ABOLISHED"}}' in out
