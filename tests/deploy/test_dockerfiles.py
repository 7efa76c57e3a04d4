"""services/<app>/Dockerfile: structure (two stages on python:3.11-slim,
runtime dependencies only, protos built in the builder, non-root, exec-form
entry point), and the build steps that can run without a Docker engine: the
protoc step on the real contracts, and the image's module layout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from . import checks

PORTS = checks.documented_ports()


def dockerfile(app: str) -> str:
    path = checks.REPO / "services" / app / "Dockerfile"
    assert path.is_file(), f"{path} is missing"
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("app", checks.APPS)
def test_dockerfile_builds_protos_and_runs_the_service_as_non_root(app: str) -> None:
    assert checks.dockerfile_problems(app, dockerfile(app), PORTS[app]) == []


@pytest.mark.parametrize("app", checks.APPS)
def test_dockerfile_names_python_m_permit_app(app: str) -> None:
    entry = [i for i in checks.parse_dockerfile(dockerfile(app)) if i.keyword == "ENTRYPOINT"]
    assert entry and " ".join(checks._exec_form(entry[-1].args) or []) == f"python -m permit_{app}"


@pytest.mark.parametrize("app", checks.APPS)
def test_dockerignore_keeps_what_the_dockerfile_copies(app: str) -> None:
    """BuildKit uses services/<app>/Dockerfile.dockerignore for this
    Dockerfile; it must not exclude a COPY source."""
    lines = (checks.REPO / "services" / app / "Dockerfile.dockerignore").read_text().splitlines()
    for keep in ("!requirements.txt", "!protos/**", "!libs/permitkit/**", f"!services/{app}/**"):
        assert keep in lines


class TestChecksCatchDefects:
    def problems(self, text: str) -> list[str]:
        return checks.dockerfile_problems("routing", text, PORTS["routing"])

    def test_no_protoc_step(self) -> None:
        text = dockerfile("routing").replace("grpc_tools.protoc", "grpc_tools.nothing")
        assert any("grpc_tools.protoc" in p for p in self.problems(text))

    def test_dev_requirements_installed(self) -> None:
        text = dockerfile("routing").replace("pip install -r requirements.txt",
                                             "pip install -r requirements-dev.txt")
        assert any("requirements-dev" in p for p in self.problems(text))

    def test_running_as_root(self) -> None:
        text = dockerfile("routing").replace("USER 10001:10001", "USER root")
        assert any("USER" in p for p in self.problems(text))

    def test_shell_form_entrypoint(self) -> None:
        text = dockerfile("routing").replace('ENTRYPOINT ["python", "-m", "permit_routing"]',
                                             "ENTRYPOINT python -m permit_routing")
        assert any("ENTRYPOINT" in p for p in self.problems(text))

    def test_another_service_entrypoint(self) -> None:
        text = dockerfile("routing").replace('"permit_routing"]', '"permit_approval"]')
        assert any("ENTRYPOINT" in p for p in self.problems(text))

    def test_wrong_pythonpath(self) -> None:
        text = dockerfile("routing").replace("PYTHONPATH=/app/gen/python:", "PYTHONPATH=")
        assert any("PYTHONPATH" in p for p in self.problems(text))

    def test_wrong_base_image(self) -> None:
        text = dockerfile("routing").replace("FROM python:3.11-slim\n", "FROM python:3.12\n")
        assert any("python:3.11-slim" in p for p in self.problems(text))

    def test_grpc_host_left_on_loopback(self) -> None:
        text = dockerfile("routing").replace("PERMIT_ROUTING_GRPC_HOST=0.0.0.0", "PERMIT_ROUTING_GRPC_HOST=127.0.0.1")
        assert any("GRPC_HOST" in p for p in self.problems(text))


def test_every_dockerfile_builds_protos_the_same_way() -> None:
    steps = {app: checks.protoc_run(checks.parse_dockerfile(dockerfile(app))) for app in checks.APPS}
    assert len(set(steps.values())) == 1, steps


@pytest.fixture(scope="module")
def built_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """/app as the builder stage leaves it: the Dockerfile's protoc RUN line
    executed (by /bin/sh, as Docker does) on a copy of the real protos/, with
    this interpreter's environment standing in for /opt/venv."""
    app = tmp_path_factory.mktemp("image") / "app"
    app.mkdir()
    shutil.copytree(checks.REPO / "protos", app / "protos")
    protos = sorted((app / "protos").rglob("*.proto"))
    assert protos, "protos/ holds no .proto file"
    step = checks.protoc_run(checks.parse_dockerfile(dockerfile("identity")))
    assert step is not None
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    out = subprocess.run(["/bin/sh", "-c", step], cwd=app, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    (app / "libs").mkdir()
    (app / "libs" / "permitkit").symlink_to(checks.REPO / "libs" / "permitkit")
    (app / "services").mkdir()
    for name in checks.APPS:
        (app / "services" / name).symlink_to(checks.REPO / "services" / name)
    return app


def test_protoc_step_generates_importable_code_for_every_contract(built_app: Path) -> None:
    gen = built_app / "gen" / "python"
    modules = sorted(".".join(p.relative_to(gen).with_suffix("").parts)
                     for p in gen.rglob("*_pb2*.py"))
    for ctx in checks.CONTEXTS:
        assert f"permit.{ctx}.v1.{ctx}_service_pb2_grpc" in modules
    code = ("import importlib, sys\n"
            f"for name in {modules!r}:\n"
            "    m = importlib.import_module(name)\n"
            f"    assert m.__file__.startswith({str(gen)!r}), m.__file__\n")
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(gen)},
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize("app", checks.APPS)
def test_image_pythonpath_resolves_the_service_and_its_entry_point(built_app: Path, app: str) -> None:
    """With the image's PYTHONPATH (rooted at the simulated /app), `python -m
    permit_<app>` finds the service's __main__ and permitkit inside /app."""
    env_line = next(i.args for i in checks.parse_dockerfile(dockerfile(app))
                    if i.keyword == "ENV" and "PYTHONPATH=" in i.args)
    pythonpath = os.pathsep.join(
        str(built_app / Path(entry).relative_to("/app"))
        for entry in checks._env_pairs(env_line)["PYTHONPATH"].split(":"))
    code = ("import importlib.util as u\n"
            f"main = u.find_spec('permit_{app}.__main__')\n"
            "kit = u.find_spec('permitkit')\n"
            "print(main.origin if main else None)\n"
            "print(kit.origin if kit else None)\n")
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": pythonpath},
                         capture_output=True, text=True, timeout=60, cwd=built_app)
    assert out.returncode == 0, out.stderr
    main_origin, kit_origin = out.stdout.split()
    assert main_origin == str(built_app / "services" / app / f"permit_{app}" / "__main__.py")
    assert kit_origin == str(built_app / "libs" / "permitkit" / "permitkit" / "__init__.py")
