"""The 掌上办 pages served by the gateway at / (UI-1), and the development persona picker."""

from __future__ import annotations

import json

import jwt
import pytest
from fastapi.testclient import TestClient

from permit_gateway.app import create_app
from permit_gateway.config import Settings


@pytest.fixture
def dist(tmp_path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>掌上办</title>", encoding="utf-8")
    (tmp_path / "assets" / "index-abc.js").write_text("console.log(1)", encoding="utf-8")
    return tmp_path


def client(monkeypatch, **env: str) -> TestClient:
    monkeypatch.delenv("PERMIT_WEB_DEV_PERSONAS", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return TestClient(create_app(Settings.from_env({})))


def test_pages_are_served_at_the_root_with_history_fallback_UI_1(monkeypatch, dist):
    c = client(monkeypatch, PERMIT_WEB_DIR=str(dist))
    r = c.get("/")
    assert r.status_code == 200 and "掌上办" in r.text and r.headers["cache-control"] == "no-cache"
    # A page of the application reloaded in the browser: index.html again.
    assert "掌上办" in c.get("/progress/APP-1").text
    r = c.get("/assets/index-abc.js")
    assert r.status_code == 200 and "immutable" in r.headers["cache-control"]
    # A missing asset is not answered with the page, nor is anything outside the folder.
    assert c.get("/assets/gone.js").status_code == 404
    assert c.get("/..%2f..%2fetc/passwd").status_code in (404, 200)
    assert "root:" not in c.get("/..%2f..%2fetc/passwd").text


def test_api_paths_keep_their_own_json_answers_UI_1(monkeypatch, dist):
    c = client(monkeypatch, PERMIT_WEB_DIR=str(dist))
    r = c.get("/v1/nowhere")
    assert (r.status_code, r.json()["error"]["reason"]) == (404, "ROUTE_NOT_FOUND")
    assert c.get("/healthz").json() == {"status": "ok"}
    assert c.get("/openapi.json").json()["openapi"]
    assert c.get("/openapi/everyone.json").status_code == 404
    r = c.post("/somewhere", json={})
    assert r.status_code == 404 and r.json()["error"]["reason"] == "ROUTE_NOT_FOUND"


def test_without_a_build_nothing_is_served_at_the_root(monkeypatch, tmp_path):
    c = client(monkeypatch, PERMIT_WEB_DIR=str(tmp_path))
    assert c.get("/").status_code == 404


def test_the_persona_picker_exists_only_when_configured_ID_1(monkeypatch, dist):
    assert client(monkeypatch, PERMIT_WEB_DIR=str(dist)).get("/dev/personas").status_code == 404
    personas = [{"id": "carrier", "label": "法人用户", "channel": "APP", "user_type": "LEGAL", "uid": "u1",
                 "name": "某公司", "uscc": "91130100MA0DPQ7R8A"},
                {"id": "hebei", "label": "河北省审批人员", "channel": "STAFF", "officer": "hebei-accept"}]
    c = client(monkeypatch, PERMIT_WEB_DIR=str(dist), PERMIT_WEB_DEV_PERSONAS=json.dumps(personas))
    listed = c.get("/dev/personas").json()["personas"]
    assert [p["id"] for p in listed] == ["carrier", "hebei"] and "uscc" not in listed[0]
    r = c.post("/dev/personas/carrier:ticket").json()
    assert r["channel"] == "CHANNEL_APP"
    claims = jwt.decode(r["ticket"], options={"verify_signature": False})
    assert (claims["ch"], claims["ut"], claims["uid"], claims["uscc"]) == ("APP", "LEGAL", "u1", "91130100MA0DPQ7R8A")
    staff = jwt.decode(c.post("/dev/personas/hebei:ticket").json()["ticket"], options={"verify_signature": False})
    assert (staff["ch"], staff["officer"]) == ("STAFF", "hebei-accept")
    r = c.post("/dev/personas/nobody:ticket")
    assert r.status_code == 404 and r.json()["error"]["reason"] == "PERSONA_NOT_FOUND"
