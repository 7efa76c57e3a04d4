"""Kubernetes manifests in deploy/k8s/: strict offline schema validation with
kubernetes-validate, and the wiring the schema cannot see (selectors, ports,
probes, Secrets, ConfigMaps, security context, migration Jobs)."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from . import checks

Maps = dict[str, dict[str, str]]
Res = list[dict[str, Any]]

PORTS = checks.documented_ports()
WORKLOAD_FILES = [checks.K8S / f"{app}.yaml" for app in checks.APPS]
MIGRATION_FILES = [checks.K8S / "migrations" / f"{ctx}.yaml" for ctx in checks.CONTEXTS]
SHARED_FILES = [checks.K8S / "namespace.yaml", checks.K8S / "config.yaml",
                checks.K8S / "examples" / "secrets.example.yaml"]
SYNC_JOB_FILE = checks.K8S / "jobs" / "legacy-sync.yaml"
ALL_FILES = [*SHARED_FILES, *WORKLOAD_FILES, *MIGRATION_FILES, SYNC_JOB_FILE]


def kubernetes_validate_cli() -> Path:
    """The console script installed beside the interpreter (.venv/bin)."""
    cli = Path(sys.executable).parent / "kubernetes-validate"
    if not cli.exists():
        pytest.fail(f"kubernetes-validate is not installed ({cli} missing): "
                    "pip install -r requirements-dev.txt", pytrace=False)
    return cli


@pytest.fixture(scope="module")
def config_maps() -> dict[str, dict[str, str]]:
    return checks.config_maps_in(checks.load_documents(checks.K8S / "config.yaml"))


@pytest.fixture(scope="module")
def secrets() -> dict[str, dict[str, str]]:
    return checks.secrets_in(checks.load_documents(checks.K8S / "examples" / "secrets.example.yaml"))


def load(path: Path) -> list[dict[str, Any]]:
    return checks.load_documents(path)


def kind(resources: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(r for r in resources if r["kind"] == name)


class TestTooling:
    def test_documented_ports_cover_every_service_and_the_gateway(self) -> None:
        assert PORTS == {"identity": 50051, "application": 50052, "routing": 50053,
                         "documents": 50054, "approval": 50055, "notifications": 50056,
                         "gateway": 8080}

    def test_kubernetes_validate_is_installed_with_the_schemas_we_target(self) -> None:
        cli = kubernetes_validate_cli()
        out = subprocess.run([str(cli), "--version"], capture_output=True, text=True, check=True)
        pins = dict(line.split("==", 1) for line in
                    (checks.REPO / "requirements-dev.txt").read_text().splitlines() if "==" in line)
        assert out.stdout.strip() == pins["kubernetes-validate"].strip()
        from kubernetes_validate import utils

        bundled = {v.rsplit(".", 1)[0] for v in utils.all_versions()}
        for version in checks.KUBERNETES_VERSIONS:
            assert version.rsplit(".", 1)[0] in bundled


class TestSchema:
    def test_manifest_set_is_complete(self) -> None:
        """One manifest per service and the gateway, one migration Job per
        service: a missing or stray file is a defect."""
        on_disk = {p.relative_to(checks.K8S).as_posix() for p in checks.K8S.rglob("*.yaml")}
        assert on_disk == {p.relative_to(checks.K8S).as_posix() for p in ALL_FILES}

    def test_cli_strict_validation_passes_every_manifest(self) -> None:
        """The exact command a platform team runs; WARN (no schema for a kind)
        counts as a failure too."""
        cli = kubernetes_validate_cli()
        versions = [arg for v in checks.KUBERNETES_VERSIONS for arg in ("--kubernetes-version", v)]
        out = subprocess.run([str(cli), "--strict", *versions, *map(str, ALL_FILES)],
                             capture_output=True, text=True)
        assert out.returncode == 0, out.stdout + out.stderr
        bad = [line for line in out.stdout.splitlines() if not line.startswith("INFO ")]
        assert bad == []
        documents = sum(len(load(p)) for p in ALL_FILES)
        assert out.stdout.count(" passed for resource ") == documents * len(checks.KUBERNETES_VERSIONS)

    @pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.relative_to(checks.K8S).as_posix())
    def test_manifest_passes_strict_schema_validation(self, path: Path) -> None:
        assert checks.schema_problems(load(path)) == []

    def test_strict_validation_rejects_an_unknown_field(self) -> None:
        dep = copy.deepcopy(kind(load(checks.K8S / "identity.yaml"), "Deployment"))
        dep["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {"grpc": {"port": 50051}}
        problems = checks.schema_problems([dep])
        assert problems and "readinesProbe" in problems[0]

    def test_strict_validation_rejects_a_wrongly_typed_value(self) -> None:
        dep = copy.deepcopy(kind(load(checks.K8S / "identity.yaml"), "Deployment"))
        dep["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["grpc"]["port"] = "grpc"
        assert checks.schema_problems([dep])

    def test_unknown_kind_is_a_problem_not_a_warning(self) -> None:
        bogus = {"apiVersion": "apps/v1", "kind": "Deploymnet", "metadata": {"name": "x"}}
        assert checks.schema_problems([bogus])


@pytest.mark.parametrize("app", checks.APPS)
def test_workload_manifest_is_wired_correctly(app: str, config_maps: dict[str, dict[str, str]],
                                              secrets: dict[str, dict[str, str]]) -> None:
    """ServiceAccount, Deployment (non-root, read-only root fs, resources,
    probes on the documented port, DB URL from a Secret), Service (and
    NetworkPolicy for a gRPC service)."""
    problems = checks.workload_problems(app, PORTS[app], load(checks.K8S / f"{app}.yaml"),
                                        config_maps=config_maps, secrets=secrets)
    assert problems == []


@pytest.mark.parametrize("ctx", checks.CONTEXTS)
def test_migration_job_runs_migrate_with_the_service_image_and_secret(
        ctx: str, config_maps: dict[str, dict[str, str]], secrets: dict[str, dict[str, str]]) -> None:
    workload = load(checks.K8S / f"{ctx}.yaml")
    problems = checks.migration_problems(ctx, load(checks.K8S / "migrations" / f"{ctx}.yaml"),
                                         kind(workload, "Deployment"), kind(workload, "Service"),
                                         config_maps=config_maps, secrets=secrets)
    assert problems == []


def sync_job_problems(job_file: Res, config_maps: Maps) -> list[str]:
    application = load(checks.K8S / "application.yaml")
    policies = {peer: kind(load(checks.K8S / f"{peer}.yaml"), "NetworkPolicy") for peer in checks.SYNC_PEERS}
    return checks.sync_job_problems(job_file, deployment=kind(application, "Deployment"),
                                    service=kind(application, "Service"), policies=policies,
                                    config_maps=config_maps)


def test_the_legacy_sync_job_runs_permit_sync_with_the_application_image_PC_3(config_maps: Maps) -> None:
    """The PC system's export synced in the cluster: `python -m permit_sync` from the
    application image, the peers' addresses from permit-common, admitted by the peers'
    NetworkPolicies, the export on a read-only volume, non-root with a read-only root."""
    assert sync_job_problems(load(SYNC_JOB_FILE), config_maps) == []


class TestSyncJobChecksCatchDefects:
    @pytest.fixture
    def job_file(self) -> Res:
        return copy.deepcopy(load(SYNC_JOB_FILE))

    def container(self, job_file: Res) -> dict[str, Any]:
        return kind(job_file, "Job")["spec"]["template"]["spec"]["containers"][0]

    def test_another_image(self, job_file: Res, config_maps: Maps) -> None:
        self.container(job_file)["image"] = "registry.example.com/permit/identity:0.1.0"
        assert any("permit_sync" in p and "image" in p for p in sync_job_problems(job_file, config_maps))

    def test_no_export_named(self, job_file: Res, config_maps: Maps) -> None:
        self.container(job_file)["args"] = ["--strict"]
        assert any("python -m permit_sync FILE" in p for p in sync_job_problems(job_file, config_maps))

    def test_peers_not_configured(self, job_file: Res, config_maps: Maps) -> None:
        self.container(job_file)["envFrom"] = []
        assert any("permit-common" in p for p in sync_job_problems(job_file, config_maps))

    def test_pods_the_network_policies_refuse(self, job_file: Res, config_maps: Maps) -> None:
        labels = kind(job_file, "Job")["spec"]["template"]["metadata"]["labels"]
        del labels["app.kubernetes.io/part-of"]
        problems = sync_job_problems(job_file, config_maps)
        assert {p for p in problems if "NetworkPolicy" in p} == {
            f"k8s/jobs/legacy-sync.yaml: the NetworkPolicy of {peer} does not admit the Job's pods"
            for peer in checks.SYNC_PEERS}

    def test_pods_the_application_service_selects(self, job_file: Res, config_maps: Maps) -> None:
        labels = kind(job_file, "Job")["spec"]["template"]["metadata"]["labels"]
        labels.update({"app.kubernetes.io/name": "application", "app.kubernetes.io/component": "grpc-server"})
        assert any("route RPCs" in p for p in sync_job_problems(job_file, config_maps))

    def test_a_writable_export(self, job_file: Res, config_maps: Maps) -> None:
        for m in self.container(job_file)["volumeMounts"]:
            if m["mountPath"] == "/export":
                m["readOnly"] = False
        assert any("read-only volume" in p for p in sync_job_problems(job_file, config_maps))


def test_shared_config_points_every_peer_at_its_service(config_maps: dict[str, dict[str, str]]) -> None:
    assert checks.config_problems(config_maps, PORTS) == []


def test_secret_example_holds_only_placeholders(secrets: dict[str, dict[str, str]]) -> None:
    assert checks.secret_example_problems(secrets) == []


def test_namespace_enforces_the_restricted_pod_security_standard() -> None:
    (ns,) = load(checks.K8S / "namespace.yaml")
    assert ns["kind"] == "Namespace" and ns["metadata"]["name"] == checks.NAMESPACE
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


class TestChecksCatchDefects:
    """Each semantic check fails on a realistic mistake."""

    @pytest.fixture()
    def identity(self) -> list[dict[str, Any]]:
        return copy.deepcopy(load(checks.K8S / "identity.yaml"))

    def problems(self, resources: list[dict[str, Any]], config_maps: dict[str, dict[str, str]],
                 secrets: dict[str, dict[str, str]]) -> list[str]:
        return checks.workload_problems("identity", PORTS["identity"], resources,
                                        config_maps=config_maps, secrets=secrets)

    def container(self, resources: list[dict[str, Any]]) -> dict[str, Any]:
        return kind(resources, "Deployment")["spec"]["template"]["spec"]["containers"][0]

    def test_probe_on_the_wrong_port(self, identity: Res, config_maps: Maps, secrets: Maps) -> None:
        self.container(identity)["readinessProbe"]["grpc"]["port"] = 50052
        assert any("readinessProbe" in p for p in self.problems(identity, config_maps, secrets))

    def test_missing_liveness_probe(self, identity: Res, config_maps: Maps, secrets: Maps) -> None:
        del self.container(identity)["livenessProbe"]
        assert any("livenessProbe" in p for p in self.problems(identity, config_maps, secrets))

    def test_database_url_in_plain_text(self, identity: Res, config_maps: Maps, secrets: Maps) -> None:
        env = self.container(identity)["env"]
        for e in env:
            if e["name"] == "PERMIT_IDENTITY_DATABASE_URL":
                e.pop("valueFrom")
                e["value"] = "postgresql+psycopg://identity:pw@db/identity"
        assert any("Secret" in p for p in self.problems(identity, config_maps, secrets))

    def test_secret_key_the_example_does_not_define(self, identity: Res, config_maps: Maps, secrets: Maps) -> None:
        for e in self.container(identity)["env"]:
            if "valueFrom" in e:
                e["valueFrom"]["secretKeyRef"]["key"] = "dsn"
        assert any("'dsn'" in p for p in self.problems(identity, config_maps, secrets))

    def test_writable_root_filesystem(self, identity: Res, config_maps: Maps, secrets: Maps) -> None:
        self.container(identity)["securityContext"]["readOnlyRootFilesystem"] = False
        assert any("readOnlyRootFilesystem" in p for p in self.problems(identity, config_maps, secrets))

    def test_running_as_root(self, identity: Res, config_maps: Maps, secrets: Maps) -> None:
        kind(identity, "Deployment")["spec"]["template"]["spec"]["securityContext"]["runAsUser"] = 0
        assert any("runAsUser" in p for p in self.problems(identity, config_maps, secrets))

    def test_missing_memory_limit(self, identity: Res, config_maps: Maps, secrets: Maps) -> None:
        del self.container(identity)["resources"]["limits"]["memory"]
        assert any("limits.memory" in p for p in self.problems(identity, config_maps, secrets))

    def test_service_selecting_no_pod(self, identity: Res, config_maps: Maps, secrets: Maps) -> None:
        kind(identity, "Service")["spec"]["selector"]["app.kubernetes.io/name"] = "identty"
        assert any("Service selector" in p for p in self.problems(identity, config_maps, secrets))

    def test_missing_network_policy(self, identity: Res, config_maps: Maps, secrets: Maps) -> None:
        without = [r for r in identity if r["kind"] != "NetworkPolicy"]
        assert any("NetworkPolicy" in p for p in self.problems(without, config_maps, secrets))

    def test_deployment_without_replicas(self, config_maps: Maps, secrets: Maps) -> None:
        # Relays of several replicas take turns through a PostgreSQL advisory lock
        # (permitkit.outbox), so any positive count is fine; zero or none is not.
        application = copy.deepcopy(load(checks.K8S / "application.yaml"))
        kind(application, "Deployment")["spec"]["replicas"] = 0
        problems = checks.workload_problems("application", PORTS["application"], application,
                                            config_maps=config_maps, secrets=secrets)
        assert any("replicas" in p for p in problems)

    def test_gateway_probe_on_another_path(self, config_maps: Maps, secrets: Maps) -> None:
        gateway = copy.deepcopy(load(checks.K8S / "gateway.yaml"))
        self.container(gateway)["readinessProbe"]["httpGet"]["path"] = "/health"
        problems = checks.workload_problems("gateway", PORTS["gateway"], gateway,
                                            config_maps=config_maps, secrets=secrets)
        assert any("readinessProbe" in p for p in problems)

    def test_migration_job_whose_pods_the_service_would_select(self, identity: Res, config_maps: Maps, secrets: Maps) -> None:
        job_file = copy.deepcopy(load(checks.K8S / "migrations" / "identity.yaml"))
        job = kind(job_file, "Job")
        job["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"] = "grpc-server"
        problems = checks.migration_problems("identity", job_file, kind(identity, "Deployment"),
                                             kind(identity, "Service"), config_maps=config_maps,
                                             secrets=secrets)
        assert any("route RPCs to migration pods" in p for p in problems)

    def test_migration_job_with_another_image(self, identity: Res, config_maps: Maps, secrets: Maps) -> None:
        job_file = copy.deepcopy(load(checks.K8S / "migrations" / "identity.yaml"))
        kind(job_file, "Job")["spec"]["template"]["spec"]["containers"][0]["image"] = \
            "registry.example.com/permit/identity:0.0.9"
        problems = checks.migration_problems("identity", job_file, kind(identity, "Deployment"),
                                             kind(identity, "Service"), config_maps=config_maps,
                                             secrets=secrets)
        assert any("differs from the Deployment" in p for p in problems)

    def test_migration_job_without_a_setting_the_deployment_has(self, config_maps: Maps, secrets: Maps) -> None:
        """`migrate` validates the whole configuration: a Job missing the
        identity signing-key passphrase would fail, or migrate another way."""
        workload = load(checks.K8S / "identity.yaml")
        job_file = copy.deepcopy(load(checks.K8S / "migrations" / "identity.yaml"))
        container = kind(job_file, "Job")["spec"]["template"]["spec"]["containers"][0]
        container["env"] = [e for e in container["env"] if e["name"] != "PERMIT_IDENTITY_KEY_PASSPHRASE"]
        problems = checks.migration_problems("identity", job_file, kind(workload, "Deployment"),
                                             kind(workload, "Service"), config_maps=config_maps,
                                             secrets=secrets)
        assert any("must be the Deployment's" in p for p in problems)

    def test_identity_left_in_development_mode(self, identity: Res, config_maps: Maps, secrets: Maps) -> None:
        for e in self.container(identity)["env"]:
            if e["name"] == "PERMIT_IDENTITY_ENV":
                e["value"] = "development"
        assert any("PERMIT_IDENTITY_ENV" in p for p in self.problems(identity, config_maps, secrets))

    def test_migration_job_that_serves_instead_of_migrating(self, identity: Res, config_maps: Maps, secrets: Maps) -> None:
        job_file = copy.deepcopy(load(checks.K8S / "migrations" / "identity.yaml"))
        del kind(job_file, "Job")["spec"]["template"]["spec"]["containers"][0]["args"]
        problems = checks.migration_problems("identity", job_file, kind(identity, "Deployment"),
                                             kind(identity, "Service"), config_maps=config_maps,
                                             secrets=secrets)
        assert any("migrate" in p for p in problems)

    def test_peer_address_on_the_wrong_port(self, config_maps: Maps) -> None:
        broken = copy.deepcopy(config_maps)
        broken["permit-common"]["ROUTING_SERVICE_ADDR"] = "routing:50051"
        assert any("ROUTING_SERVICE_ADDR" in p for p in checks.config_problems(broken, PORTS))

    def test_real_looking_secret_in_the_example(self, secrets: Maps) -> None:
        broken = copy.deepcopy(secrets)
        broken["permit-routing"]["database-url"] = "postgresql+psycopg://routing:s3cret@db:5432/routing"
        assert any("placeholder" in p for p in checks.secret_example_problems(broken))
