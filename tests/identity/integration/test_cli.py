"""The operator CLI as documented: migrate, seed-demo, import-legacy,
create-officer, mint-ticket and serve, as separate processes on PostgreSQL
(ID-3, ID-6, walking slice)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest

from permit.identity.v1 import identity_pb2 as pb
from permit.identity.v1 import identity_service_pb2 as spb
from permit.identity.v1 import identity_service_pb2_grpc as sgrpc
from permitkit.testing import free_port, wait_for_port
from tests.identity.conftest import error_of

pytestmark = pytest.mark.integration


@pytest.fixture
def cli_env(make_database: Callable[[str], str], tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "PERMIT_IDENTITY_DATABASE_URL": make_database("identity_cli"),
            "PERMIT_LOG_JSON": "1", "PERMIT_DATA_DIR": str(tmp_path), "PERMIT_IDENTITY_DEV_SIGN_IN": "1"}


def cli(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    r = subprocess.run([sys.executable, "-m", "permit_identity", *args], env=env, capture_output=True,
                       text=True, timeout=120)
    if check and r.returncode != 0:
        raise AssertionError(f"{args} exited {r.returncode}: {r.stderr}")
    return r


def last_json(r: subprocess.CompletedProcess[str]) -> dict:  # type: ignore[type-arg]
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.fixture
def served(cli_env: dict[str, str]) -> Iterator[tuple[sgrpc.IdentityServiceStub, dict[str, str]]]:
    cli(cli_env, "migrate")
    cli(cli_env, "seed-demo")
    port = free_port()
    env = {**cli_env, "PERMIT_IDENTITY_GRPC_PORT": str(port)}
    proc = subprocess.Popen([sys.executable, "-m", "permit_identity"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for_port("127.0.0.1", port, proc=proc)
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        yield sgrpc.IdentityServiceStub(channel), env
        channel.close()
    finally:
        proc.terminate()
        proc.wait(20)


def test_seed_demo_is_idempotent_and_names_parties_by_legacy_id_ID_3(cli_env: dict[str, str]) -> None:
    cli(cli_env, "migrate")
    first = last_json(cli(cli_env, "seed-demo"))
    again = last_json(cli(cli_env, "seed-demo"))
    assert first == again
    assert first["parties"] == ["parties/L1001", "parties/L2001"]
    assert {"officers/hebei-accept", "officers/shandong-review", "officers/jiangsu-review",
            "officers/beijing-review", "officers/tianjin-review"} <= set(first["officers"])


def test_seed_demo_officers_only_leaves_the_accounts_to_the_sync_PC_3(cli_env: dict[str, str]) -> None:
    """`make run` creates the officers this way and syncs the demo export through permit_sync."""
    cli(cli_env, "migrate")
    out = last_json(cli(cli_env, "seed-demo", "--officers-only"))
    assert out["parties"] == [] and "officers/hebei-accept" in out["officers"]
    from permit_identity.legacy import DEMO_EXPORT

    # No account was written: the demo export's two accounts are all new afterwards.
    assert last_json(cli(cli_env, "import-legacy", str(DEMO_EXPORT)))["created"] == 2


def test_import_legacy_reports_created_then_updated_ID_3(cli_env: dict[str, str], tmp_path: Path) -> None:
    cli(cli_env, "migrate")
    f = tmp_path / "export.json"
    f.write_text(json.dumps({"accounts": [{"legacy_id": "L9", "kind": "PERSON", "name": "赵六",
                                           "id_number": "11010519491231002X", "vehicles": [],
                                           "agents": [], "applications": []}]}, ensure_ascii=False),
                 encoding="utf-8")
    assert last_json(cli(cli_env, "import-legacy", str(f))) == {
        "created": 1, "updated": 0, "parties": ["parties/L9"]}
    assert last_json(cli(cli_env, "import-legacy", str(f)))["updated"] == 1


def test_import_legacy_refuses_a_bad_id_number_with_one_line_ID_3(cli_env: dict[str, str], tmp_path: Path) -> None:
    cli(cli_env, "migrate")
    f = tmp_path / "bad.json"
    f.write_text(json.dumps({"accounts": [{"legacy_id": "L9", "kind": "PERSON", "name": "x",
                                           "id_number": "110105194912310021"}]}), encoding="utf-8")
    r = cli(cli_env, "import-legacy", str(f), check=False)
    assert r.returncode == 1
    assert r.stderr.strip().splitlines()[-1].startswith("error: INVALID_ID_NUMBER")


def test_create_officer_then_duplicate_is_refused_ID_6(cli_env: dict[str, str]) -> None:
    cli(cli_env, "migrate")
    out = last_json(cli(cli_env, "create-officer", "--login", "hebei-accept", "--name", "张三",
                        "--province", "130000", "--roles", "officer.accept,officer.review,officer.licence"))
    assert out == {"officer": "officers/hebei-accept", "province": "130000",
                   "roles": ["officer.accept", "officer.licence", "officer.review"]}
    dup = cli(cli_env, "create-officer", "--login", "hebei-accept", "--name", "张三", "--province",
              "130000", "--roles", "officer.accept", check=False)
    assert dup.returncode == 1 and "OFFICER_EXISTS" in dup.stderr
    bad = cli(cli_env, "create-officer", "--login", "x-1", "--name", "n", "--province", "999999",
              "--roles", "officer.accept", check=False)
    assert bad.returncode == 1 and "PROVINCE_INVALID" in bad.stderr


def test_minted_tickets_sign_in_to_the_served_process_ID_1_ID_6(
        served: tuple[sgrpc.IdentityServiceStub, dict[str, str]]) -> None:
    stub, env = served
    legal = cli(env, "mint-ticket", "--channel", "APP", "--user-type", "LEGAL", "--uid", "u1",
                "--name", "河北冀运大件物流有限公司", "--uscc", "91130100MA0DPQ7R8A").stdout.strip()
    s = stub.SignIn(spb.SignInRequest(channel=pb.CHANNEL_APP, ticket=legal))
    assert s.me.party == "parties/L1001" and s.me.legacy_linked
    staff = cli(env, "mint-ticket", "--channel", "STAFF", "--officer", "hebei-accept").stdout.strip()
    o = stub.SignIn(spb.SignInRequest(channel=pb.CHANNEL_STAFF, ticket=staff))
    assert o.me.user == "officers/hebei-accept" and o.me.province == "130000"
    wechat_legal = cli(env, "mint-ticket", "--channel", "WECHAT", "--user-type", "LEGAL", "--uid", "u2",
                       "--uscc", "91130100MA0DPQ7R8A").stdout.strip()
    with pytest.raises(grpc.RpcError) as e:
        stub.SignIn(spb.SignInRequest(channel=pb.CHANNEL_WECHAT, ticket=wechat_legal))
    assert error_of(e.value)[1] == "CHANNEL_PERSON_ONLY"


def test_serve_on_an_unmigrated_database_stops_with_one_line(cli_env: dict[str, str]) -> None:
    env = {**cli_env, "PERMIT_IDENTITY_GRPC_PORT": str(free_port())}
    r = subprocess.run([sys.executable, "-m", "permit_identity", "serve"], env=env, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines()[-1].startswith(
        "configuration error: the identity database is not reachable or not migrated")


def test_production_with_development_sign_in_on_exits_at_start_SI_2(cli_env: dict[str, str]) -> None:
    """SI-2: a service started with the production profile and the development
    provider switched on stops before serving, with one clear line."""
    env = {**cli_env, "PERMIT_IDENTITY_ENV": "production", "PERMIT_IDENTITY_DEV_SIGN_IN": "1",
           "PERMIT_IDENTITY_KEY_PASSPHRASE": "p" * 32, "PERMIT_IDENTITY_GRPC_PORT": str(free_port()),
           "PERMIT_IDENTITY_OIDC_ISSUER": "https://uias.example.gov.cn"}
    r = cli(env, "serve", check=False)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines()[-1] == (
        "configuration error: PERMIT_IDENTITY_DEV_SIGN_IN is on but PERMIT_IDENTITY_ENV is production: "
        "production refuses development sign-in tickets; switch it off")


def test_production_without_a_provider_or_key_passphrase_exits_at_start_SI_1(cli_env: dict[str, str]) -> None:
    env = {**cli_env, "PERMIT_IDENTITY_ENV": "production", "PERMIT_IDENTITY_DEV_SIGN_IN": "0",
           "PERMIT_IDENTITY_GRPC_PORT": str(free_port())}
    r = cli(env, "serve", check=False)
    assert r.returncode == 2 and "PERMIT_IDENTITY_KEY_PASSPHRASE must be set in production" in r.stderr
    r = cli({**env, "PERMIT_IDENTITY_KEY_PASSPHRASE": "p" * 32}, "serve", check=False)
    assert r.returncode == 2 and "production needs PERMIT_IDENTITY_OIDC_ISSUER" in r.stderr


def test_the_calendar_has_one_administrator_path_in_approval_ID_5(cli_env: dict[str, str]) -> None:
    """Identity keeps no working-day calendar: years are loaded in approval (RV-4)."""
    r = cli(cli_env, "set-calendar-year", "2027", check=False)
    assert r.returncode == 2 and "invalid choice: 'set-calendar-year'" in r.stderr
