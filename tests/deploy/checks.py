"""Checks of the deployment files (deploy/, the one deploy/Dockerfile).

Each check returns a list of problems (empty = fine) instead of asserting, so
the tests can run it on the real files and also on a deliberately broken copy,
proving that the check catches the defect.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"
COMPOSE_FILE = DEPLOY / "compose.yaml"
DOCKERFILE = DEPLOY / "Dockerfile"
DEVELOPMENT_MD = REPO / "docs" / "development.md"

CONTEXTS = ("identity", "application", "routing", "documents", "approval", "notifications")
APPS = (*CONTEXTS, "gateway")
NAMESPACE = "permit"
COMMON_CONFIG_MAP = "permit-common"
# Kubernetes versions the manifests must validate against: the oldest we
# support and the newest schema kubernetes-validate bundles.
KUBERNETES_VERSIONS = ("1.33.0", "1.37.0")
PLACEHOLDER = "CHANGE_ME"
DOCUMENTS_S3_SETTINGS = ("ENDPOINT", "ACCESS_KEY", "SECRET_KEY", "BUCKET", "SECURE", "PUBLIC_ENDPOINT")


def documented_ports() -> dict[str, int]:
    """Default ports of every service and the gateway, read from the binding
    table in docs/development.md ("| identity | 50051 | ... |")."""
    ports: dict[str, int] = {}
    for line in DEVELOPMENT_MD.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\|\s*([a-z]+)(?: \(HTTP\))?\s*\|\s*(\d{2,5})\s*\|", line)
        if m and m.group(1) in APPS:
            ports[m.group(1)] = int(m.group(2))
    return ports


def load_documents(path: Path) -> list[dict[str, Any]]:
    """Every non-empty YAML document of a manifest file."""
    with path.open(encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d]


def by_kind(resources: Iterable[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    out: dict[str, list[Mapping[str, Any]]] = {}
    for r in resources:
        out.setdefault(str(r.get("kind")), []).append(r)
    return out


# ---------------------------------------------------------------------------
# Kubernetes: schema
# ---------------------------------------------------------------------------

def schema_problems(resources: Iterable[Mapping[str, Any]], versions: Iterable[str] = KUBERNETES_VERSIONS,
                    ) -> list[str]:
    """Strict schema validation through kubernetes-validate's Python API.

    Unlike its CLI (which only warns), an unknown kind or apiVersion is a
    problem here: a typo there must not pass as "no schema to check".
    """
    from kubernetes_validate import utils as kv  # absent -> ImportError, the test fails

    problems: list[str] = []
    for r in resources:
        name = f"{r.get('kind')}/{(r.get('metadata') or {}).get('name')}"
        for version in versions:
            try:
                kv.validate(dict(r), version, strict=True)
            except kv.ValidationError as e:
                path = ".".join(str(p) for p in e.path)
                problems.append(f"{name} (k8s {version}): {path}: {e.message}")
            except kv.SchemaNotFoundError as e:
                problems.append(f"{name} (k8s {version}): {e.message}")
    return problems


# ---------------------------------------------------------------------------
# Kubernetes: semantics the schema cannot see
# ---------------------------------------------------------------------------

def _labels_match(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _container_problems(where: str, pod_spec: Mapping[str, Any]) -> list[str]:
    """Non-root, read-only root filesystem, no escalation, requests and limits."""
    problems: list[str] = []
    pod_sc = pod_spec.get("securityContext") or {}
    if pod_sc.get("runAsNonRoot") is not True:
        problems.append(f"{where}: pod securityContext.runAsNonRoot must be true")
    if not isinstance(pod_sc.get("runAsUser"), int) or pod_sc.get("runAsUser") == 0:
        problems.append(f"{where}: pod securityContext.runAsUser must be a non-zero uid")
    if (pod_sc.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
        problems.append(f"{where}: pod seccompProfile must be RuntimeDefault (restricted namespace)")
    if pod_spec.get("automountServiceAccountToken") is not False:
        problems.append(f"{where}: automountServiceAccountToken must be false")
    containers = pod_spec.get("containers") or []
    if len(containers) != 1:
        problems.append(f"{where}: expected exactly one container, found {len(containers)}")
    for c in containers:
        sc = c.get("securityContext") or {}
        if sc.get("readOnlyRootFilesystem") is not True:
            problems.append(f"{where}: container {c.get('name')} needs readOnlyRootFilesystem: true")
        if sc.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{where}: container {c.get('name')} needs allowPrivilegeEscalation: false")
        if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
            problems.append(f"{where}: container {c.get('name')} must drop ALL capabilities")
        res = c.get("resources") or {}
        for part in ("requests", "limits"):
            for key in ("cpu", "memory"):
                if key not in (res.get(part) or {}):
                    problems.append(f"{where}: container {c.get('name')} has no resources.{part}.{key}")
        mounts = {m.get("mountPath") for m in c.get("volumeMounts") or []}
        if "/tmp" not in mounts:
            problems.append(f"{where}: container {c.get('name')} needs a writable /tmp (read-only root)")
    return problems


def _env(container: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {e["name"]: e for e in container.get("env") or []}


def _secret_ref_problems(where: str, container: Mapping[str, Any],
                         secrets: Mapping[str, Mapping[str, str]]) -> list[str]:
    problems = []
    for e in container.get("env") or []:
        ref = (e.get("valueFrom") or {}).get("secretKeyRef")
        if ref is None:
            continue
        if ref.get("name") not in secrets:
            problems.append(f"{where}: env {e['name']} names Secret {ref.get('name')!r}, "
                            f"which the Secret example does not define")
        elif ref.get("key") not in secrets[ref["name"]]:
            problems.append(f"{where}: env {e['name']} names key {ref.get('key')!r} missing from "
                            f"Secret {ref['name']}")
    return problems


def _config_map_problems(where: str, container: Mapping[str, Any],
                         config_maps: Mapping[str, Mapping[str, str]]) -> list[str]:
    problems = []
    names = [(s.get("configMapRef") or {}).get("name") for s in container.get("envFrom") or []]
    if COMMON_CONFIG_MAP not in names:
        problems.append(f"{where}: envFrom must include ConfigMap {COMMON_CONFIG_MAP}")
    for n in names:
        if n is not None and n not in config_maps:
            problems.append(f"{where}: envFrom names ConfigMap {n!r}, which config.yaml does not define")
    return problems


def _port_of(container: Mapping[str, Any], port: int | str) -> int | None:
    if isinstance(port, int):
        return port
    for p in container.get("ports") or []:
        if p.get("name") == port:
            return int(p["containerPort"])
    return None


def _namespace_problems(resources: Iterable[Mapping[str, Any]]) -> list[str]:
    return [f"{r.get('kind')}/{r['metadata'].get('name')}: namespace must be {NAMESPACE!r}"
            for r in resources if r["metadata"].get("namespace") != NAMESPACE]


def _one(kinds: Mapping[str, list[Mapping[str, Any]]], kind: str, where: str,
         problems: list[str]) -> Mapping[str, Any] | None:
    found = kinds.get(kind, [])
    if len(found) != 1:
        problems.append(f"{where}: expected exactly one {kind}, found {len(found)}")
        return None
    return found[0]


def workload_problems(app: str, port: int, resources: list[Mapping[str, Any]], *,
                      config_maps: Mapping[str, Mapping[str, str]],
                      secrets: Mapping[str, Mapping[str, str]]) -> list[str]:
    """deploy/k8s/<app>.yaml: ServiceAccount, Deployment, Service (and, for a
    gRPC service, a NetworkPolicy), wired to each other and to the config."""
    where = f"k8s/{app}.yaml"
    grpc_service = app in CONTEXTS
    problems = _namespace_problems(resources)
    kinds = by_kind(resources)
    expected = {"ServiceAccount", "Deployment", "Service"} | ({"NetworkPolicy"} if grpc_service else set())
    if set(kinds) != expected:
        problems.append(f"{where}: kinds {sorted(kinds)} != {sorted(expected)}")
    sa = _one(kinds, "ServiceAccount", where, problems)
    dep = _one(kinds, "Deployment", where, problems)
    svc = _one(kinds, "Service", where, problems)
    if dep is None:
        return problems
    spec = dep["spec"]
    if not isinstance(spec.get("replicas"), int) or spec["replicas"] < 1:
        problems.append(f"{where}: replicas must be a positive integer (got {spec.get('replicas')})")
    pod = spec["template"]
    pod_labels = (pod.get("metadata") or {}).get("labels") or {}
    selector = (spec.get("selector") or {}).get("matchLabels") or {}
    if not _labels_match(selector, pod_labels):
        problems.append(f"{where}: Deployment selector {selector} does not match its pod labels")
    if pod_labels.get("app.kubernetes.io/part-of") != "permit":
        problems.append(f"{where}: pods need the label app.kubernetes.io/part-of=permit")
    pod_spec = pod["spec"]
    if sa is not None and pod_spec.get("serviceAccountName") != sa["metadata"]["name"]:
        problems.append(f"{where}: pods must run as ServiceAccount {sa['metadata']['name']}")
    if sa is not None and sa.get("automountServiceAccountToken") is not False:
        problems.append(f"{where}: ServiceAccount must not automount its token")
    problems += _container_problems(where, pod_spec)
    containers = pod_spec.get("containers") or []
    if not containers:
        return problems
    c = containers[0]
    if c.get("command") != ["python", "-m", f"permit_{app}"] or c.get("args"):
        problems.append(f"{where}: container must run python -m permit_{app}, got {c.get('command')} "
                        f"{c.get('args') or ''}")
    if not re.fullmatch(rf"[\w.\-/:]+/{app}:[\w.\-]+", str(c.get("image"))):
        problems.append(f"{where}: image {c.get('image')!r} is not <registry>/.../{app}:<tag>")
    port_name = "grpc" if grpc_service else "http"
    if _port_of(c, port_name) != port:
        problems.append(f"{where}: container port {port_name!r} must be {port}")
    problems += _config_map_problems(where, c, config_maps)
    problems += _secret_ref_problems(where, c, secrets)
    env = _env(c)
    if grpc_service:
        prefix = f"PERMIT_{app.upper()}"
        if (env.get(f"{prefix}_GRPC_PORT") or {}).get("value") != str(port):
            problems.append(f"{where}: {prefix}_GRPC_PORT must be {port}")
        if (env.get(f"{prefix}_GRPC_HOST") or {}).get("value") != "0.0.0.0":
            problems.append(f"{where}: {prefix}_GRPC_HOST must be 0.0.0.0 (reachable from the kubelet and peers)")
        if app == "identity" and (env.get("PERMIT_IDENTITY_ENV") or {}).get("value") != "production":
            # Production refuses the public development ticket key.
            problems.append(f"{where}: PERMIT_IDENTITY_ENV must be production")
        db = env.get(f"{prefix}_DATABASE_URL") or {}
        if "value" in db or not (db.get("valueFrom") or {}).get("secretKeyRef"):
            problems.append(f"{where}: {prefix}_DATABASE_URL must come from a Secret (secretKeyRef)")
        if app == "documents":
            for key in ("ACCESS_KEY", "SECRET_KEY"):
                v = env.get(f"PERMIT_DOCUMENTS_S3_{key}") or {}
                if "value" in v or not (v.get("valueFrom") or {}).get("secretKeyRef"):
                    problems.append(f"{where}: PERMIT_DOCUMENTS_S3_{key} must come from a Secret")
            provided = set(env) | {k for s in c.get("envFrom") or []
                                   for k in config_maps.get((s.get("configMapRef") or {}).get("name"), {})}
            for setting in DOCUMENTS_S3_SETTINGS:
                if f"PERMIT_DOCUMENTS_S3_{setting}" not in provided:
                    problems.append(f"{where}: PERMIT_DOCUMENTS_S3_{setting} is not set")
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            got = ((c.get(probe) or {}).get("grpc") or {}).get("port")
            if got != port:
                problems.append(f"{where}: {probe} must be a grpc probe on port {port}, got {c.get(probe)}")
    else:
        if (env.get("PERMIT_GATEWAY_PORT") or {}).get("value") != str(port):
            problems.append(f"{where}: PERMIT_GATEWAY_PORT must be {port}")
        if (env.get("PERMIT_GATEWAY_HOST") or {}).get("value") != "0.0.0.0":
            problems.append(f"{where}: PERMIT_GATEWAY_HOST must be 0.0.0.0")
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            http = (c.get(probe) or {}).get("httpGet") or {}
            if http.get("path") != "/healthz" or _port_of(c, http.get("port", -1)) != port:
                problems.append(f"{where}: {probe} must GET /healthz on port {port}, got {c.get(probe)}")
    if svc is not None:
        svc_selector = svc["spec"].get("selector") or {}
        if not _labels_match(svc_selector, pod_labels):
            problems.append(f"{where}: Service selector {svc_selector} does not select the pods")
        targets = [_port_of(c, p.get("targetPort", p.get("port"))) for p in svc["spec"].get("ports") or []]
        if port not in targets:
            problems.append(f"{where}: Service does not forward to container port {port}")
        if grpc_service and not any(p.get("port") == port for p in svc["spec"].get("ports") or []):
            problems.append(f"{where}: Service must listen on {port} (<CTX>_SERVICE_ADDR uses it)")
    netpol = (kinds.get("NetworkPolicy") or [None])[0]
    if grpc_service and netpol is not None:
        sel = (netpol["spec"].get("podSelector") or {}).get("matchLabels") or {}
        if not _labels_match(sel, pod_labels):
            problems.append(f"{where}: NetworkPolicy podSelector {sel} does not select the pods")
        rules = netpol["spec"].get("ingress") or []
        if not rules or any(not r.get("from") for r in rules):
            problems.append(f"{where}: NetworkPolicy must restrict who may connect (ingress[].from)")
    return problems


def _job_problems(where: str, resources: list[Mapping[str, Any]],
                  ) -> tuple[list[str], Mapping[str, Any] | None, Mapping[str, Any] | None]:
    """A file of one ServiceAccount and one Job that runs once as it (retries and a
    deadline bounded, the pods' security): the problems, the pod template, its container."""
    problems = _namespace_problems(resources)
    kinds = by_kind(resources)
    if set(kinds) != {"ServiceAccount", "Job"}:
        problems.append(f"{where}: kinds {sorted(kinds)} != ['Job', 'ServiceAccount']")
    sa = _one(kinds, "ServiceAccount", where, problems)
    job = _one(kinds, "Job", where, problems)
    if job is None:
        return problems, None, None
    spec = job["spec"]
    pod = spec["template"]
    pod_spec = pod["spec"]
    if pod_spec.get("restartPolicy") not in ("Never", "OnFailure"):
        problems.append(f"{where}: restartPolicy must be Never or OnFailure")
    if not isinstance(spec.get("backoffLimit"), int):
        problems.append(f"{where}: set backoffLimit (how often a failed run is retried)")
    if not isinstance(spec.get("activeDeadlineSeconds"), int):
        problems.append(f"{where}: set activeDeadlineSeconds (a stuck run must not hang a rollout)")
    if sa is not None and pod_spec.get("serviceAccountName") != sa["metadata"]["name"]:
        problems.append(f"{where}: the Job must run as ServiceAccount {sa['metadata']['name']}")
    problems += _container_problems(where, pod_spec)
    containers = pod_spec.get("containers") or []
    return problems, pod, (containers[0] if containers else None)


def _container_argv(c: Mapping[str, Any]) -> list[str]:
    """What a container runs: its command, then its args."""
    return [*(c.get("command") or []), *(c.get("args") or [])]


def migration_problems(ctx: str, resources: list[Mapping[str, Any]],
                       deployment: Mapping[str, Any] | None, service: Mapping[str, Any] | None, *,
                       config_maps: Mapping[str, Mapping[str, str]],
                       secrets: Mapping[str, Mapping[str, str]]) -> list[str]:
    """deploy/k8s/migrations/<ctx>.yaml: a Job that runs `python -m
    permit_<ctx> migrate` with the Deployment's image and database Secret."""
    where = f"k8s/migrations/{ctx}.yaml"
    problems, pod, c = _job_problems(where, resources)
    if pod is None or c is None:
        return problems
    argv = _container_argv(c)
    if argv != ["python", "-m", f"permit_{ctx}", "migrate"]:
        problems.append(f"{where}: the Job must run python -m permit_{ctx} migrate, got {argv}")
    problems += _config_map_problems(where, c, config_maps)
    problems += _secret_ref_problems(where, c, secrets)
    db_name = f"PERMIT_{ctx.upper()}_DATABASE_URL"
    if not ((_env(c).get(db_name) or {}).get("valueFrom") or {}).get("secretKeyRef"):
        problems.append(f"{where}: {db_name} must come from a Secret")
    if deployment is not None:
        dc = deployment["spec"]["template"]["spec"]["containers"][0]
        if c.get("image") != dc.get("image"):
            problems.append(f"{where}: image {c.get('image')} differs from the Deployment's {dc.get('image')}")
        # `migrate` validates the service's whole configuration at start, so
        # the Job must see exactly what the Deployment sees.
        if c.get("env") != dc.get("env") or c.get("envFrom") != dc.get("envFrom"):
            problems.append(f"{where}: env/envFrom must be the Deployment's, so that `migrate` sees "
                            f"the same (validated) settings")
    if service is not None:
        labels = (pod.get("metadata") or {}).get("labels") or {}
        if _labels_match(service["spec"].get("selector") or {}, labels):
            problems.append(f"{where}: the Service {service['metadata']['name']} would route RPCs to "
                            f"migration pods (their labels match its selector)")
    return problems


# The services the legacy sync calls (PC-3), each through <CTX>_SERVICE_ADDR.
SYNC_PEERS = ("identity", "application", "approval")


def _sync_files(args: list[str]) -> list[str]:
    """The export files ``python -m permit_sync`` would read with these arguments (its own
    parser), or none when it would refuse them."""
    import contextlib
    import io

    from permit_sync.__main__ import _parser

    with contextlib.redirect_stderr(io.StringIO()):
        try:
            return list(_parser().parse_args(args).files)
        except SystemExit:
            return []


def sync_job_problems(resources: list[Mapping[str, Any]], *, deployment: Mapping[str, Any],
                      service: Mapping[str, Any], policies: Mapping[str, Mapping[str, Any]],
                      config_maps: Mapping[str, Mapping[str, str]]) -> list[str]:
    """deploy/k8s/jobs/legacy-sync.yaml: a Job that runs ``python -m permit_sync`` with
    the application Deployment's image, finds identity, application and approval through
    the shared ConfigMap, is admitted by their NetworkPolicies, reads the export from a
    read-only volume, and is no pod the application Service routes RPCs to."""
    where = "k8s/jobs/legacy-sync.yaml"
    problems, pod, c = _job_problems(where, resources)
    if pod is None or c is None:
        return problems
    pod_spec = pod["spec"]
    argv = _container_argv(c)
    files = _sync_files(argv[3:])
    if argv[:3] != ["python", "-m", "permit_sync"] or not files:
        problems.append(f"{where}: the Job must run python -m permit_sync FILE..., got {argv}")
    dc = deployment["spec"]["template"]["spec"]["containers"][0]
    if c.get("image") != dc.get("image"):
        problems.append(f"{where}: image {c.get('image')} differs from the application Deployment's "
                        f"{dc.get('image')} (the image that carries permit_sync)")
    problems += _config_map_problems(where, c, config_maps)
    common = config_maps.get(COMMON_CONFIG_MAP) or {}
    for peer in SYNC_PEERS:
        if f"{peer.upper()}_SERVICE_ADDR" not in common:
            problems.append(f"{where}: {COMMON_CONFIG_MAP} has no {peer.upper()}_SERVICE_ADDR")
    labels = (pod.get("metadata") or {}).get("labels") or {}
    if _labels_match(service["spec"].get("selector") or {}, labels):
        problems.append(f"{where}: the Service {service['metadata']['name']} would route RPCs to its pods")
    for peer in SYNC_PEERS:
        policy = policies.get(peer)
        admitted = policy is not None and any(
            _labels_match((src.get("podSelector") or {}).get("matchLabels") or {}, labels)
            for rule in policy["spec"].get("ingress") or [] for src in rule.get("from") or [])
        if not admitted:
            problems.append(f"{where}: the NetworkPolicy of {peer} does not admit the Job's pods")
    mounts = {m.get("mountPath"): m for m in c.get("volumeMounts") or []}
    volumes = {v.get("name"): v for v in pod_spec.get("volumes") or []}
    for f in files:
        mount = next((m for path, m in mounts.items() if path and f.startswith(path.rstrip("/") + "/")), None)
        if mount is None:
            problems.append(f"{where}: no volume is mounted where {f} is read")
        elif mount.get("readOnly") is not True or mount.get("name") not in volumes:
            problems.append(f"{where}: the export ({f}) must come from a read-only volume")
    return problems


def config_problems(config_maps: Mapping[str, Mapping[str, str]], ports: Mapping[str, int]) -> list[str]:
    """The shared ConfigMap points every peer at its Service and port."""
    common = config_maps.get(COMMON_CONFIG_MAP)
    if common is None:
        return [f"config.yaml: no ConfigMap {COMMON_CONFIG_MAP}"]
    problems = []
    for ctx in CONTEXTS:
        want = f"{ctx}:{ports[ctx]}"
        got = common.get(f"{ctx.upper()}_SERVICE_ADDR")
        if got != want:
            problems.append(f"config.yaml: {ctx.upper()}_SERVICE_ADDR is {got!r}, want {want!r}")
    for key in ("PERMIT_LOG_JSON", "PERMIT_LOG_LEVEL"):
        if key not in common:
            problems.append(f"config.yaml: {COMMON_CONFIG_MAP} has no {key}")
    for name, data in config_maps.items():
        for key in data:
            if re.search(r"PASSWORD|SECRET|ACCESS_KEY|DATABASE_URL", key):
                problems.append(f"config.yaml: {name}.{key} is a credential: put it in a Secret")
    return problems


def secret_example_problems(secrets: Mapping[str, Mapping[str, str]]) -> list[str]:
    """Every Secret value in the example is visibly a placeholder."""
    problems = []
    for ctx in CONTEXTS:
        if "database-url" not in secrets.get(f"permit-{ctx}", {}):
            problems.append(f"secrets.example.yaml: Secret permit-{ctx} has no database-url")
        elif not secrets[f"permit-{ctx}"]["database-url"].startswith("postgresql+psycopg://"):
            problems.append(f"secrets.example.yaml: permit-{ctx} database-url must be postgresql+psycopg://")
    for name, data in secrets.items():
        for key, value in data.items():
            if PLACEHOLDER not in value:
                problems.append(f"secrets.example.yaml: {name}.{key} is not a {PLACEHOLDER} placeholder")
    return problems


def config_maps_in(resources: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, str]]:
    return {r["metadata"]["name"]: dict(r.get("data") or {}) for r in resources if r.get("kind") == "ConfigMap"}


def secrets_in(resources: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, str]]:
    return {r["metadata"]["name"]: {**(r.get("data") or {}), **(r.get("stringData") or {})}
            for r in resources if r.get("kind") == "Secret"}


# ---------------------------------------------------------------------------
# Compose
# ---------------------------------------------------------------------------

EXPECTED_COMPOSE_SERVICES = frozenset(
    {"postgres", "minio", "minio-buckets", "redis", "gateway", *CONTEXTS, *(f"{c}-migrate" for c in CONTEXTS)})


def env_of(service: Mapping[str, Any]) -> dict[str, str]:
    """A compose service's environment as a dict (mapping or KEY=VALUE list)."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def _depends(service: Mapping[str, Any]) -> dict[str, str]:
    dep = service.get("depends_on") or {}
    if isinstance(dep, list):
        return {name: "service_started" for name in dep}
    return {name: (spec or {}).get("condition", "service_started") for name, spec in dep.items()}


def _argv(value: str | list[str] | None) -> list[str]:
    """A compose command/entrypoint (string or list) as a list."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _healthcheck_argv(service: Mapping[str, Any]) -> list[str]:
    test = (service.get("healthcheck") or {}).get("test") or []
    if isinstance(test, str):
        return ["CMD-SHELL", test]
    return list(test)


def _build_problems(name: str, service: Mapping[str, Any], app: str,
                    port: int | None = None) -> list[str]:
    build = service.get("build")
    if not isinstance(build, Mapping):
        return [f"compose {name}: needs build: {{context: .., dockerfile: deploy/Dockerfile, "
                f"args: {{SERVICE: {app}}}}}"]
    problems = []
    if (DEPLOY / str(build.get("context", "."))).resolve() != REPO:
        problems.append(f"compose {name}: build context must be the repository root")
    if build.get("dockerfile") != "deploy/Dockerfile":
        problems.append(f"compose {name}: dockerfile must be deploy/Dockerfile")
    args = build.get("args") or {}
    if str(args.get("SERVICE", "")) != app:
        problems.append(f"compose {name}: build args must have SERVICE: {app}")
    if port is not None and str(args.get("PORT", "")) != str(port):
        problems.append(f"compose {name}: build args must have PORT: \"{port}\"")
    return problems


def compose_problems(doc: Mapping[str, Any], ports: Mapping[str, int]) -> list[str]:
    """deploy/compose.yaml, as PyYAML parses it (anchors and merge keys resolved)."""
    services: Mapping[str, Any] = doc.get("services") or {}
    problems = []
    missing = EXPECTED_COMPOSE_SERVICES - set(services)
    extra = set(services) - EXPECTED_COMPOSE_SERVICES
    if missing:
        problems.append(f"compose: missing services {sorted(missing)}")
    if extra:
        problems.append(f"compose: unexpected services {sorted(extra)}")
    peers = {f"{c.upper()}_SERVICE_ADDR": f"{c}:{ports[c]}" for c in CONTEXTS}

    pg = services.get("postgres") or {}
    if not str(pg.get("image", "")).startswith("postgres:15"):
        problems.append("compose postgres: image must be postgres:15")
    if not _healthcheck_argv(pg):
        problems.append("compose postgres: needs a healthcheck (migrations wait for it)")
    mounts = [str(v).split(":")[0] for v in pg.get("volumes") or [] if isinstance(v, str)]
    init = [m for m in mounts if m.endswith(".sql") or m.endswith(".sh")]
    if not init:
        problems.append("compose postgres: no init script mounted into /docker-entrypoint-initdb.d")
    for m in init:
        if not (DEPLOY / m).is_file():
            problems.append(f"compose postgres: init script {m} does not exist")

    minio = services.get("minio") or {}
    if not str(minio.get("image", "")).startswith("minio/minio:"):
        problems.append("compose minio: image must be minio/minio:<release>")
    if not _healthcheck_argv(minio):
        problems.append("compose minio: needs a healthcheck (the bucket job waits for it)")
    buckets = services.get("minio-buckets") or {}
    if not str(buckets.get("image", "")).startswith("minio/mc:"):
        problems.append("compose minio-buckets: image must be minio/mc:<release>")
    if _depends(buckets).get("minio") != "service_healthy":
        problems.append("compose minio-buckets: must depend on minio being healthy")
    script = " ".join(_argv(buckets.get("entrypoint")) + _argv(buckets.get("command")))
    bucket = env_of(buckets).get("BUCKET")
    if "mc mb" not in script or not bucket:
        problems.append("compose minio-buckets: must create the bucket named in BUCKET with mc mb")

    for ctx in CONTEXTS:
        prefix = f"PERMIT_{ctx.upper()}"
        svc = services.get(ctx)
        mig = services.get(f"{ctx}-migrate")
        if svc is None or mig is None:
            continue
        env = env_of(svc)
        url = env.get(f"{prefix}_DATABASE_URL", "")
        m = re.fullmatch(r"postgresql\+psycopg://[^@/]+@postgres:5432/(\w+)", url)
        if not m:
            problems.append(f"compose {ctx}: {prefix}_DATABASE_URL must be "
                            f"postgresql+psycopg://...@postgres:5432/<db>, got {url!r}")
        elif m.group(1) != ctx:
            problems.append(f"compose {ctx}: uses database {m.group(1)!r}, its own is {ctx!r}")
        if env.get(f"{prefix}_GRPC_PORT") != str(ports[ctx]):
            problems.append(f"compose {ctx}: {prefix}_GRPC_PORT must be {ports[ctx]}")
        if env.get(f"{prefix}_GRPC_HOST") != "0.0.0.0":
            problems.append(f"compose {ctx}: {prefix}_GRPC_HOST must be 0.0.0.0")
        for key, addr in peers.items():
            if env.get(key) != addr:
                problems.append(f"compose {ctx}: {key} must be {addr}, got {env.get(key)!r}")
        if _depends(svc).get(f"{ctx}-migrate") != "service_completed_successfully":
            problems.append(f"compose {ctx}: must start only after {ctx}-migrate completed successfully")
        hc = " ".join(_healthcheck_argv(svc))
        if "grpc_health" not in hc or f"{prefix}_GRPC_PORT" not in hc:
            problems.append(f"compose {ctx}: healthcheck must ask gRPC health on {prefix}_GRPC_PORT")
        problems += _build_problems(ctx, svc, ctx, ports[ctx])
        problems += _build_problems(f"{ctx}-migrate", mig, ctx, ports[ctx])
        if mig.get("image") != svc.get("image") or not mig.get("image"):
            problems.append(f"compose {ctx}-migrate: must use the service's image {svc.get('image')!r}")
        if mig.get("command") != ["migrate"]:
            problems.append(f"compose {ctx}-migrate: command must be [migrate], got {mig.get('command')!r}")
        if env_of(mig).get(f"{prefix}_DATABASE_URL") != url:
            problems.append(f"compose {ctx}-migrate: must migrate the database the service uses")
        elif env_of(mig) != env:
            # `migrate` validates the service's whole configuration at start.
            problems.append(f"compose {ctx}-migrate: environment must be the service's")
        if _depends(mig).get("postgres") != "service_healthy":
            problems.append(f"compose {ctx}-migrate: must depend on postgres being healthy")
        if mig.get("restart") not in (None, "no"):
            problems.append(f"compose {ctx}-migrate: a one-shot job must not restart")

    docs = services.get("documents")
    if docs is not None:
        env = env_of(docs)
        for setting in DOCUMENTS_S3_SETTINGS:
            if not env.get(f"PERMIT_DOCUMENTS_S3_{setting}"):
                problems.append(f"compose documents: PERMIT_DOCUMENTS_S3_{setting} is not set")
        if env.get("PERMIT_DOCUMENTS_S3_ENDPOINT") != "minio:9000":
            problems.append("compose documents: PERMIT_DOCUMENTS_S3_ENDPOINT must be minio:9000")
        if bucket and env.get("PERMIT_DOCUMENTS_S3_BUCKET") != bucket:
            problems.append(f"compose documents: bucket {env.get('PERMIT_DOCUMENTS_S3_BUCKET')!r} is not "
                            f"the one minio-buckets creates ({bucket!r})")
        if _depends(docs).get("minio-buckets") != "service_completed_successfully":
            problems.append("compose documents: must start after minio-buckets completed successfully")

    gw = services.get("gateway")
    if gw is not None:
        env = env_of(gw)
        for key, addr in peers.items():
            if env.get(key) != addr:
                problems.append(f"compose gateway: {key} must be {addr}, got {env.get(key)!r}")
        if env.get("PERMIT_GATEWAY_PORT") != str(ports["gateway"]):
            problems.append(f"compose gateway: PERMIT_GATEWAY_PORT must be {ports['gateway']}")
        published = [str(p) for p in gw.get("ports") or []]
        if f"{ports['gateway']}:{ports['gateway']}" not in published:
            problems.append(f"compose gateway: must publish {ports['gateway']}:{ports['gateway']}")
        if "/healthz" not in " ".join(_healthcheck_argv(gw)):
            problems.append("compose gateway: healthcheck must GET /healthz")
        problems += _build_problems("gateway", gw, "gateway", ports["gateway"])
        for ctx in CONTEXTS:
            if ctx not in _depends(gw):
                problems.append(f"compose gateway: must depend on {ctx}")
    # Only the gateway (and MinIO, for download links) face the host.
    for name, svc in services.items():
        if name in CONTEXTS and svc.get("ports"):
            problems.append(f"compose {name}: a gRPC service must not publish ports (it trusts metadata)")
    return problems


def init_sql_problems(sql: str) -> list[str]:
    """The postgres init script creates one database per service."""
    created = set(re.findall(r"CREATE\s+DATABASE\s+\"?(\w+)\"?", sql, flags=re.IGNORECASE))
    return [f"init script: no CREATE DATABASE {ctx}" for ctx in CONTEXTS if ctx not in created]


# ---------------------------------------------------------------------------
# Dockerfiles
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions with line continuations joined and comments dropped."""
    out: list[Instruction] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, args = line.partition(" ")
        out.append(Instruction(keyword.upper(), args.strip()))
    return out


def _exec_form(args: str) -> list[str] | None:
    try:
        value = json.loads(args)
    except ValueError:
        return None
    return value if isinstance(value, list) and all(isinstance(v, str) for v in value) else None


def _env_pairs(args: str) -> dict[str, str]:
    return dict(tok.split("=", 1) for tok in shlex.split(args) if "=" in tok)


def entrypoint(instructions: list[Instruction]) -> list[str] | None:
    """The exec-form ENTRYPOINT argv of the last stage, or None."""
    entry = [i for i in instructions if i.keyword == "ENTRYPOINT"]
    return _exec_form(entry[-1].args) if entry else None


def protoc_run(instructions: list[Instruction]) -> str | None:
    """The RUN that builds the generated code, or None."""
    for i in instructions:
        if i.keyword == "RUN" and "grpc_tools.protoc" in i.args:
            return i.args
    return None


def render(text: str, args: Mapping[str, str]) -> list[Instruction]:
    """The instructions as Docker runs them with ``--build-arg``s: each stage's declared
    ARGs substituted (``$NAME`` / ``${NAME}``) everywhere but in an exec-form
    ENTRYPOINT, which Docker does not expand. RUN lines get the value the shell would."""
    out: list[Instruction] = []
    declared: set[str] = set()
    for i in parse_dockerfile(text):
        if i.keyword == "FROM":
            declared = set()
        if i.keyword == "ARG":
            declared.add(i.args.split("=")[0].strip())
            out.append(i)
            continue
        body = i.args
        if i.keyword != "ENTRYPOINT":
            for name in declared:
                value = args.get(name, "")
                body = body.replace("${" + name + "}", value)
                body = re.sub(r"\$" + name + r"\b", value, body)
        out.append(Instruction(i.keyword, body))
    return out


def dockerfile_problems(app: str, text: str, port: int) -> list[str]:
    """deploy/Dockerfile built with ``--build-arg SERVICE=<app> --build-arg PORT=<port>``."""
    where = f"deploy/Dockerfile (SERVICE={app})"
    ins = render(text, {"SERVICE": app, "PORT": str(port)})
    problems = []
    froms = [i.args for i in ins if i.keyword == "FROM"]
    if len(froms) < 2:
        problems.append(f"{where}: expected a builder stage and a runtime stage")
    for f in froms:
        if not f.split()[0] == "python:3.11-slim":
            problems.append(f"{where}: base image must be python:3.11-slim, got {f!r}")
    stages = [i for i, x in enumerate(ins) if x.keyword == "FROM"]
    runtime_start = stages[-1] if stages else 0
    builder, runtime = ins[:runtime_start], ins[runtime_start:]

    copies = [i.args.split() for i in builder if i.keyword == "COPY"]
    sources = {c[0].rstrip("/") for c in copies if not c[0].startswith("--")}
    for need in ("requirements.txt", "protos", "libs/permitkit", f"services/{app}"):
        if need not in sources:
            problems.append(f"{where}: builder must COPY {need}")
    for s in sources:
        if s not in ("requirements.txt", "protos", "libs/permitkit", f"services/{app}"):
            problems.append(f"{where}: builder copies {s}, which the image does not need")
    runs = " ".join(i.args for i in builder if i.keyword == "RUN")
    if any("requirements-dev" in i.args for i in ins):
        problems.append(f"{where}: must not install requirements-dev.txt")
    if "pip install -r requirements.txt" not in runs:
        problems.append(f"{where}: builder must pip install -r requirements.txt")
    protoc = protoc_run(builder)
    if protoc is None:
        problems.append(f"{where}: builder must generate code with python -m grpc_tools.protoc")
    elif "gen/python" not in protoc or "--grpc_python_out" not in protoc:
        problems.append(f"{where}: protoc must write --python_out/--grpc_python_out into gen/python")

    env: dict[str, str] = {}
    for i in runtime:
        if i.keyword == "ENV":
            env.update(_env_pairs(i.args))
    want_path = f"/app/gen/python:/app/libs/permitkit:/app/services/{app}"
    if env.get("PYTHONPATH") != want_path:
        problems.append(f"{where}: PYTHONPATH must be {want_path}, got {env.get('PYTHONPATH')!r}")
    copied = " ".join(i.args for i in runtime if i.keyword == "COPY")
    for part in ("/app/gen/python", "/app/libs/permitkit", f"/app/services/{app}"):
        if part not in copied:
            problems.append(f"{where}: runtime stage does not copy {part} from the builder")
    if app in CONTEXTS:
        prefix = f"PERMIT_{app.upper()}_GRPC"
    else:
        prefix = f"PERMIT_{app.upper()}"
    if env.get(f"{prefix}_HOST") != "0.0.0.0":
        problems.append(f"{where}: {prefix}_HOST must default to 0.0.0.0 in the image")
    if env.get(f"{prefix}_PORT", str(port)) != str(port):
        problems.append(f"{where}: {prefix}_PORT must default to {port}")
    if env.get("PERMIT_SERVICE") != app:
        problems.append(f"{where}: PERMIT_SERVICE must name the service the entry point runs")
    if not any(i.keyword == "EXPOSE" and i.args.split()[0] == str(port) for i in runtime):
        problems.append(f"{where}: must EXPOSE {port}")
    users = [i.args for i in runtime if i.keyword == "USER"]
    if not users:
        problems.append(f"{where}: the runtime stage must switch to a non-root USER")
    else:
        uid = users[-1].split(":")[0]
        if not uid.isdigit() or uid == "0":
            # Numeric, so that runAsNonRoot can verify it without /etc/passwd.
            problems.append(f"{where}: USER must be a numeric non-zero uid, got {users[-1]!r}")
    argv = entrypoint(ins)
    if argv is None:
        problems.append(f"{where}: ENTRYPOINT must be in exec form (JSON), so no shell stays PID 1")
    elif argv[:2] == ["/bin/sh", "-c"] and not argv[2].lstrip().startswith("exec "):
        problems.append(f"{where}: a shell ENTRYPOINT must exec python, so SIGTERM reaches Python")
    if any(i.keyword == "CMD" for i in runtime):
        problems.append(f"{where}: no CMD: the default is to serve; `migrate` is passed as an argument")
    return problems
