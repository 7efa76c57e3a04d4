"""`make lint` runs `buf breaking` against the released contracts
(protos/buf-image.binpb): the contracts of this tree pass, and a breaking
change to a public v1 contract fails the build."""

from __future__ import annotations

import shutil
import subprocess
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUF = ROOT / "node_modules" / ".bin" / "buf"
BASELINE = ROOT / "protos" / "buf-image.binpb"


@pytest.fixture(scope="module")
def buf() -> Path:
    assert BUF.is_file(), "buf is missing: run `npm install` (package.json pins it)"
    return BUF


def workspace(tmp: Path) -> Path:
    """A copy of the buf workspace: buf.yaml, protos/ and the googleapis protos
    (from the googleapis-common-protos wheel, as `make proto-deps` copies them)."""
    ws = tmp / "ws"
    shutil.copytree(ROOT / "protos", ws / "protos", ignore=shutil.ignore_patterns("*.binpb"))
    shutil.copy(ROOT / "buf.yaml", ws / "buf.yaml")
    site = Path(sysconfig.get_paths()["purelib"])
    for sub in ("google/api", "google/type", "google/rpc"):
        dst = ws / "gen" / "third_party" / sub
        dst.mkdir(parents=True)
        for f in (site / sub).glob("*.proto"):
            shutil.copy(f, dst / f.name)
    return ws


def breaking(buf: Path, ws: Path) -> subprocess.CompletedProcess[str]:
    image = ws / "current.binpb"
    built = subprocess.run([str(buf), "build", "--exclude-source-info", "-o", str(image)], cwd=ws,
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    return subprocess.run([str(buf), "breaking", str(image), "--against", str(BASELINE)], cwd=ws,
                          capture_output=True, text=True, timeout=300)


def edit(ws: Path, rel: str, old: str, new: str) -> None:
    path = ws / "protos" / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {rel}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_contracts_of_this_tree_keep_the_released_v1_contracts(buf: Path, tmp_path: Path) -> None:
    out = breaking(buf, workspace(tmp_path))
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize(("rel", "old", "new", "says"), [
    # A mass in kg narrowed to 32 bits (AP-3 quantities are int64 end to end).
    ("permit/application/v1/application.proto", "int64 weight_kg = 3", "int32 weight_kg = 3",
     'changed type from "int64" to "int32"'),
    # A field of a resource renumbered: old clients read garbage.
    ("permit/approval/v1/approval.proto", "string number = 2", "string number = 42",
     'Previously present field "2"'),
    # A public RPC removed.
    ("permit/routing/v1/routing_service.proto", "rpc ListProvinces(", "rpc ListAllProvinces(",
     'Previously present RPC "ListProvinces"'),
])
def test_a_breaking_change_to_a_public_v1_contract_fails(buf: Path, tmp_path: Path, rel: str, old: str,
                                                         new: str, says: str) -> None:
    ws = workspace(tmp_path)
    edit(ws, rel, old, new)
    out = breaking(buf, ws)
    assert out.returncode != 0
    assert rel in out.stdout and says in out.stdout, out.stdout + out.stderr


def test_make_lint_runs_buf_breaking_against_the_committed_baseline() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    lint = makefile.split("\nlint:", 1)[1].split("\n\n", 1)[0]
    assert "buf breaking" in lint and "$(PROTO_BASELINE)" in lint
    assert "PROTO_BASELINE := protos/buf-image.binpb" in makefile
    assert subprocess.run(["git", "ls-files", "--error-unmatch", "protos/buf-image.binpb"], cwd=ROOT,
                          capture_output=True, timeout=30).returncode == 0, "the baseline must be committed"
