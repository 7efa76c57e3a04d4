"""deploy/Dockerfile: the one image recipe, built per service with
``--build-arg SERVICE=<app> --build-arg PORT=<port>``. Its structure for every
service (two stages on python:3.11-slim, runtime dependencies only, protos
built in the builder, non-root, an entry point that runs ``python -m
permit_<app>`` as PID 1), and the build steps that can run without a Docker
engine: the protoc step on the real contracts, the image's module layout and
the entry point itself."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from . import checks

PORTS = checks.documented_ports()


def dockerfile() -> str:
    assert checks.DOCKERFILE.is_file(), f"{checks.DOCKERFILE} is missing"
    return checks.DOCKERFILE.read_text(encoding="utf-8")


def test_one_dockerfile_serves_every_service() -> None:
    """No per-service copies to keep equal: the services' folders hold no Dockerfile."""
    copies = sorted(str(p.relative_to(checks.REPO)) for p in (checks.REPO / "services").rglob("Dockerfile*"))
    assert copies == []


@pytest.mark.parametrize("app", checks.APPS)
def test_dockerfile_builds_protos_and_runs_the_service_as_non_root(app: str) -> None:
    assert checks.dockerfile_problems(app, dockerfile(), PORTS[app]) == []


@pytest.mark.parametrize("app", checks.APPS)
def test_entry_point_runs_python_m_permit_app_as_pid_1_with_its_arguments(app: str, tmp_path: Path) -> None:
    """The ENTRYPOINT, run as Docker would with the image's environment, execs
    ``python -m permit_<app>`` (a stand-in python records its argv and pid) and
    passes ``migrate`` through."""
    ins = checks.render(dockerfile(), {"SERVICE": app, "PORT": str(PORTS[app])})
    argv = checks.entrypoint(ins)
    assert argv is not None
    env = {}
    for i in ins[max(n for n, x in enumerate(ins) if x.keyword == "FROM"):]:
        if i.keyword == "ENV":
            env.update(checks._env_pairs(i.args))
    fake = tmp_path / "python"
    fake.write_text('#!/bin/sh\necho "$$ $*"\n')
    fake.chmod(0o755)
    shell = subprocess.run(["/bin/sh", "-c", 'echo "$$"; exec "$0" "$@"', *argv, "migrate"],
                           env={"PATH": f"{tmp_path}:/usr/bin:/bin", "PERMIT_SERVICE": env["PERMIT_SERVICE"]},
                           capture_output=True, text=True, timeout=30)
    assert shell.returncode == 0, shell.stderr
    first_pid, line = shell.stdout.splitlines()
    pid, *args = line.split()
    assert args == ["-m", f"permit_{app}", "migrate"]
    assert pid == first_pid, "the entry point's shell must exec python, not wait for it"


def test_dockerignore_keeps_what_the_dockerfile_copies() -> None:
    """BuildKit uses deploy/Dockerfile.dockerignore for this Dockerfile; it must
    not exclude a COPY source of any service."""
    lines = (checks.DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    for keep in ("!requirements.txt", "!protos/**", "!libs/permitkit/**",
                 *(f"!services/{app}/**" for app in checks.APPS)):
        assert keep in lines


def test_a_build_without_a_known_service_stops_with_a_clear_message() -> None:
    step = next(i.args for i in checks.parse_dockerfile(dockerfile()) if i.keyword == "RUN" and "SERVICE" in i.args)
    for service, code in (("", 1), ("billing", 1), ("routing", 0)):
        out = subprocess.run(["/bin/sh", "-c", step.split("&&")[0]], env={"SERVICE": service, "PATH": "/usr/bin:/bin"},
                             capture_output=True, text=True, timeout=30)
        assert out.returncode == code, (service, out.stderr)
        if code:
            assert "--build-arg SERVICE=" in out.stderr


class TestChecksCatchDefects:
    def problems(self, text: str) -> list[str]:
        return checks.dockerfile_problems("routing", text, PORTS["routing"])

    def test_no_protoc_step(self) -> None:
        text = dockerfile().replace("grpc_tools.protoc", "grpc_tools.nothing")
        assert any("grpc_tools.protoc" in p for p in self.problems(text))

    def test_dev_requirements_installed(self) -> None:
        text = dockerfile().replace("pip install -r requirements.txt", "pip install -r requirements-dev.txt")
        assert any("requirements-dev" in p for p in self.problems(text))

    def test_running_as_root(self) -> None:
        text = dockerfile().replace("USER 10001:10001", "USER root")
        assert any("USER" in p for p in self.problems(text))

    def test_shell_form_entrypoint(self) -> None:
        text = dockerfile().replace('ENTRYPOINT ["/bin/sh", "-c", "exec python',
                                    'ENTRYPOINT ["/bin/sh", "-c", "python')
        assert any("ENTRYPOINT" in p for p in self.problems(text))

    def test_another_service_copied(self) -> None:
        text = dockerfile().replace("COPY services/${SERVICE}/ services/${SERVICE}/",
                                    "COPY services/ services/")
        assert any("services" in p for p in self.problems(text))

    def test_wrong_pythonpath(self) -> None:
        text = dockerfile().replace("PYTHONPATH=/app/gen/python:", "PYTHONPATH=")
        assert any("PYTHONPATH" in p for p in self.problems(text))

    def test_wrong_base_image(self) -> None:
        text = dockerfile().replace("FROM python:3.11-slim\n", "FROM python:3.12\n")
        assert any("python:3.11-slim" in p for p in self.problems(text))

    def test_grpc_host_left_on_loopback(self) -> None:
        text = dockerfile().replace("PERMIT_ROUTING_GRPC_HOST=0.0.0.0", "PERMIT_ROUTING_GRPC_HOST=127.0.0.1")
        assert any("GRPC_HOST" in p for p in self.problems(text))

    def test_port_not_exposed(self) -> None:
        text = dockerfile().replace("EXPOSE ${PORT}", "EXPOSE 9999")
        assert any("EXPOSE" in p for p in self.problems(text))


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
    step = checks.protoc_run(checks.render(dockerfile(), {"SERVICE": "identity"}))
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
    env_line = next(i.args for i in checks.render(dockerfile(), {"SERVICE": app})
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


def test_the_application_image_carries_the_legacy_sync_PC_3(built_app: Path) -> None:
    """deploy/k8s/jobs/legacy-sync.yaml runs `python -m permit_sync` from the application
    image: with that image's PYTHONPATH the module and its readers resolve inside /app."""
    env_line = next(i.args for i in checks.render(dockerfile(), {"SERVICE": "application"})
                    if i.keyword == "ENV" and "PYTHONPATH=" in i.args)
    pythonpath = os.pathsep.join(
        str(built_app / Path(entry).relative_to("/app"))
        for entry in checks._env_pairs(env_line)["PYTHONPATH"].split(":"))
    code = ("import importlib.util as u\n"
            "for name in ('permit_sync.__main__', 'permit_sync.readers', 'permit_sync.sync'):\n"
            "    print(u.find_spec(name).origin)\n")
    out = subprocess.run([sys.executable, "-c", code], env={"PYTHONPATH": pythonpath},
                         capture_output=True, text=True, timeout=60, cwd=built_app)
    assert out.returncode == 0, out.stderr
    package = built_app / "services" / "application" / "permit_sync"
    assert out.stdout.split() == [str(package / f) for f in ("__main__.py", "readers.py", "sync.py")]


@pytest.mark.parametrize("app", checks.APPS)
def test_only_the_approval_image_installs_the_cjk_font_of_certificates_CT_1(app: str, tmp_path: Path) -> None:
    """The runtime stage's font step, run with stand-in apt-get and rm: approval (which
    refuses to start without a CJK font for the certificate) installs fonts-wqy-microhei,
    the other images install nothing."""
    ins = checks.render(dockerfile(), {"SERVICE": app, "PORT": str(PORTS[app])})
    runtime = ins[max(n for n, x in enumerate(ins) if x.keyword == "FROM"):]
    steps = [i.args for i in runtime if i.keyword == "RUN" and "fonts-wqy-microhei" in i.args]
    assert len(steps) == 1, "the runtime stage installs the certificate font in one RUN"
    log = tmp_path / "calls"
    for tool in ("apt-get", "rm"):
        fake = tmp_path / tool
        fake.write_text(f'#!/bin/sh\necho "{tool} $*" >> "{log}"\n')
        fake.chmod(0o755)
    run = subprocess.run(["/bin/sh", "-c", steps[0]], env={"PATH": f"{tmp_path}:/usr/bin:/bin", "SERVICE": app},
                         capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stderr
    calls = log.read_text().splitlines() if log.exists() else []
    installs = [c for c in calls if c.startswith("apt-get install")]
    if app == "approval":
        assert installs == ["apt-get install -y --no-install-recommends fonts-wqy-microhei"]
    else:
        assert installs == []
