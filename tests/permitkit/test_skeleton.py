"""One service skeleton: every service's composition root is ``bootstrap.App``,
served by ``permitkit.server.build_server(app)``, configured by a
``permitkit.settings.ServiceSettings`` whose common settings are validated once."""

from __future__ import annotations

import dataclasses
import importlib
import inspect

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from permitkit.server import build_server
from permitkit.settings import CONTEXTS, LOG_LEVELS, ServiceSettings, SettingsError, common_settings


@pytest.mark.parametrize("ctx", CONTEXTS)
def test_every_service_has_the_same_composition_root_and_settings_base(ctx: str) -> None:
    bootstrap = importlib.import_module(f"permit_{ctx}.bootstrap")
    config = importlib.import_module(f"permit_{ctx}.config")
    app = bootstrap.App
    assert app.domain == f"permit.{ctx}"
    for method in ("grpc_services", "start", "close"):
        assert inspect.isfunction(getattr(app, method)), f"permit_{ctx}.bootstrap.App.{method}"
    assert issubclass(config.Settings, ServiceSettings)
    assert not any(cls.__name__ != "App" and cls.__module__ == bootstrap.__name__ and
                   hasattr(cls, "grpc_services") for cls in vars(bootstrap).values() if isinstance(cls, type))
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module(f"permit_{ctx}.server")


@pytest.mark.parametrize("ctx", CONTEXTS)
def test_a_bad_log_level_stops_every_service_with_the_same_line(ctx: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = importlib.import_module(f"permit_{ctx}.config")
    with pytest.raises(SettingsError) as e:
        config.Settings.from_env({"PERMIT_DATA_DIR": str(tmp_path), "PERMIT_LOG_LEVEL": "LOUD"})
    assert str(e.value) == f"PERMIT_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got 'LOUD'"


@pytest.mark.parametrize("ctx", CONTEXTS)
def test_common_settings_are_read_the_same_way_by_every_service(ctx: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = importlib.import_module(f"permit_{ctx}.config")
    env = {"PERMIT_DATA_DIR": str(tmp_path), "PERMIT_LOG_LEVEL": "debug", "PERMIT_LOG_JSON": "0",
           f"PERMIT_{ctx.upper()}_GRPC_PORT": "6001", f"PERMIT_{ctx.upper()}_GRPC_WORKERS": "4",
           "PERMIT_METRICS_PORT": "9100"}
    s = config.Settings.from_env(env)
    common = {f.name: getattr(s, f.name) for f in dataclasses.fields(ServiceSettings)}
    assert common == common_settings(env, ctx)
    assert (s.context, s.grpc_port, s.grpc_workers, s.log_level, s.log_json, s.metrics_port) == (
        ctx, 6001, 4, "DEBUG", False, 9100)


@pytest.mark.parametrize(("env", "name"), [
    ({"PERMIT_ROUTING_GRPC_WORKERS": "0"}, "PERMIT_ROUTING_GRPC_WORKERS"),
    ({"PERMIT_METRICS_PORT": "http"}, "PERMIT_METRICS_PORT"),
    ({"PERMIT_LOG_JSON": "sometimes"}, "PERMIT_LOG_JSON"),
])
def test_a_bad_common_setting_is_named(env: dict[str, str], name: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SettingsError, match=name):
        common_settings({"PERMIT_DATA_DIR": str(tmp_path), **env}, "routing")


def test_build_server_serves_the_apps_services_with_health(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from permit_routing.bootstrap import build
    from permit_routing.config import Settings

    app = build(Settings.from_env({"PERMIT_DATA_DIR": str(tmp_path)}))
    server, port = build_server(app, host="127.0.0.1", port=0)
    server.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
            health = health_pb2_grpc.HealthStub(ch)
            answer = health.Check(health_pb2.HealthCheckRequest(service="permit.routing.v1.RoutingService"),
                                  timeout=5)
            assert answer.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        server.stop(0)
        app.close()
