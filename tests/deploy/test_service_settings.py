"""Every service's own settings loader (``permit_<ctx>.config.Settings.from_env``) accepts
the environment that compose and the Kubernetes manifests give it, and no peer address
falls back to its loopback default (which would be wrong in a container)."""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Mapping
from typing import Any

import pytest

from . import checks

PORTS = checks.documented_ports()


def settings_of(app: str, env: Mapping[str, str]) -> Any:
    config = importlib.import_module(f"permit_{app}.config")
    return config.Settings.from_env(dict(env))


def loopback_addrs(settings: Any) -> list[str]:
    return [f"{f.name}={getattr(settings, f.name)}" for f in dataclasses.fields(settings)
            if f.name.endswith("_addr") and str(getattr(settings, f.name)).startswith("127.0.0.1:")]


def k8s_env(app: str, config_maps: Mapping[str, Mapping[str, str]],
            secrets: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """The container's environment: its ConfigMaps, then its env (Secrets from the example)."""
    resources = checks.load_documents(checks.K8S / f"{app}.yaml")
    (dep,) = [r for r in resources if r.get("kind") == "Deployment"]
    (c,) = dep["spec"]["template"]["spec"]["containers"]
    env: dict[str, str] = {}
    for source in c.get("envFrom") or []:
        env.update(config_maps[source["configMapRef"]["name"]])
    for e in c.get("env") or []:
        if "value" in e:
            env[e["name"]] = str(e["value"])
        else:
            ref = e["valueFrom"]["secretKeyRef"]
            env[e["name"]] = secrets[ref["name"]][ref["key"]]
    return env


@pytest.fixture(scope="module")
def config_maps() -> dict[str, dict[str, str]]:
    return checks.config_maps_in(checks.load_documents(checks.K8S / "config.yaml"))


@pytest.fixture(scope="module")
def secrets() -> dict[str, dict[str, str]]:
    return checks.secrets_in(checks.load_documents(checks.K8S / "examples" / "secrets.example.yaml"))


@pytest.mark.parametrize("app", checks.APPS)
def test_k8s_environment_is_accepted_and_names_every_peer(
        app: str, config_maps: dict[str, dict[str, str]], secrets: dict[str, dict[str, str]]) -> None:
    settings = settings_of(app, k8s_env(app, config_maps, secrets))
    assert loopback_addrs(settings) == []


@pytest.mark.parametrize("app", checks.APPS)
def test_compose_environment_is_accepted_and_names_every_peer(app: str) -> None:
    services = checks.load_documents(checks.COMPOSE_FILE)[0]["services"]
    settings = settings_of(app, checks.env_of(services[app]))
    assert loopback_addrs(settings) == []


def test_approval_reaches_documents_and_takes_its_key_from_a_secret(
        config_maps: dict[str, dict[str, str]], secrets: dict[str, dict[str, str]]) -> None:
    """Issue 6 and RV-5: approval grants documents through DOCUMENTS_SERVICE_ADDR; the
    verification key is a Secret in Kubernetes, never the built-in development key."""
    from permit_approval.config import DEV_VERIFICATION_KEY

    settings = settings_of("approval", k8s_env("approval", config_maps, secrets))
    assert settings.documents_addr == f"documents:{PORTS['documents']}"
    assert settings.routing_addr == f"routing:{PORTS['routing']}"
    (dep,) = [r for r in checks.load_documents(checks.K8S / "approval.yaml")
              if r.get("kind") == "Deployment"]
    env = {e["name"]: e for e in dep["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["PERMIT_APPROVAL_VERIFICATION_KEY"]["valueFrom"]["secretKeyRef"] == {
        "name": "permit-approval", "key": "verification-key"}
    compose = settings_of("approval", checks.env_of(
        checks.load_documents(checks.COMPOSE_FILE)[0]["services"]["approval"]))
    assert compose.verification_key != DEV_VERIFICATION_KEY
    assert len(compose.verification_key.encode()) >= 16
