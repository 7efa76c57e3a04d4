"""HTTP rules read from the protos' ``google.api.http`` annotations.

The gateway has no route table of its own: every public RPC's annotation
becomes one route, so the contracts stay the single source of truth. RPCs only
services call live on internal services (``*InternalService`` in
``<ctx>_internal.proto``, ``permit.events.v1.EventSinkService``) that carry no
annotation and are not even loaded here: the gateway cannot expose them.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor, message_factory
from google.protobuf.message import Message

CONTEXTS = ("identity", "application", "routing", "documents", "approval", "notifications")

# Callable without a token: signing in, published keys, public reference data,
# permit verification and the certificate keys (RV-5, CT-2: anyone may check a
# permit, also offline), and
# document downloads whose signed link token is the authorisation (the
# documents service refuses a download with neither token nor caller).
PUBLIC_METHODS = frozenset({
    "permit.identity.v1.IdentityService/SignIn",
    "permit.identity.v1.IdentityService/StartSignIn",
    "permit.identity.v1.IdentityService/CompleteSignIn",
    "permit.identity.v1.IdentityService/RefreshSession",
    "permit.identity.v1.IdentityService/ListPublicKeys",
    "permit.routing.v1.RoutingService/ListProvinces",
    "permit.routing.v1.RoutingService/ListExpressways",
    "permit.approval.v1.ApprovalService/VerifyPermit",
    "permit.approval.v1.ApprovalService/ListCertificateKeys",
    "permit.documents.v1.DocumentService/DownloadDocument",
})

_VAR = re.compile(r"\{([a-zA-Z0-9_.]+)(?:=([^}]*))?\}")


@dataclass(frozen=True)
class PathVar:
    """One ``{field=template}`` of a rule: the request field and its URL segments."""

    field: str
    segments: tuple[str, ...]  # literal segments and "*" wildcards, e.g. ("applications", "*")


@dataclass
class Rule:
    """One HTTP binding of an RPC."""

    context: str
    service: str
    method: descriptor.MethodDescriptor
    http_method: str
    template: str
    body: str
    route_path: str = ""  # Starlette path with {p0}, {p1} params
    vars: list[tuple[PathVar, list[str]]] = field(default_factory=list)  # var -> param names

    @property
    def full_method(self) -> str:
        return f"{self.service}/{self.method.name}"

    @property
    def grpc_path(self) -> str:
        return f"/{self.service}/{self.method.name}"

    @property
    def internal(self) -> bool:
        """An annotation under /internal/ (none since internal RPCs moved to internal services;
        such a rule would never be routed)."""
        return self.template.startswith("/internal/")

    @property
    def public(self) -> bool:
        return self.full_method in PUBLIC_METHODS

    @property
    def client_streaming(self) -> bool:
        return bool(self.method.client_streaming)

    @property
    def server_streaming(self) -> bool:
        return bool(self.method.server_streaming)

    @property
    def has_verb(self) -> bool:
        return ":" in self.template.rsplit("/", 1)[-1]

    def request_class(self) -> type[Message]:
        return message_factory.GetMessageClass(self.method.input_type)

    def response_class(self) -> type[Message]:
        return message_factory.GetMessageClass(self.method.output_type)

    def path_fields(self, params: dict[str, str]) -> dict[str, str]:
        """Starlette path params -> request field values (``applications/123``)."""
        out: dict[str, str] = {}
        for var, names in self.vars:
            values = iter(params[n] for n in names)
            out[var.field] = "/".join(next(values) if s == "*" else s for s in var.segments)
        return out


def _compile(rule: Rule) -> None:
    n = 0
    taken: set[str] = set()
    path = rule.template

    def repl(m: re.Match[str]) -> str:
        nonlocal n
        fname, tmpl = m.group(1), m.group(2) or "*"
        segments = tuple(tmpl.split("/"))
        names: list[str] = []
        out: list[str] = []
        prev = fname
        for s in segments:
            if s in ("*", "**"):
                # Name the URL parameter after its collection: applications/* -> application_id.
                base = re.sub(r"[^a-zA-Z0-9]", "_", prev.removesuffix("s") or "id")
                pname = f"{base}_id" if f"{base}_id" not in taken else f"{base}_id{n}"
                taken.add(pname)
                names.append(pname)
                out.append("{" + pname + (":path" if s == "**" else "") + "}")
                n += 1
            else:
                out.append(s)
                prev = s
        rule.vars.append((PathVar(fname, tuple("*" if s == "**" else s for s in segments)), names))
        return "/".join(out)

    rule.route_path = _VAR.sub(repl, path)


def _bindings(rule: http_pb2.HttpRule) -> Iterator[http_pb2.HttpRule]:
    yield rule
    yield from rule.additional_bindings


def load_service_modules(contexts: Iterable[str] = CONTEXTS) -> list[Any]:
    """Import every context's generated ``*_service_pb2`` module."""
    return [importlib.import_module(f"permit.{c}.v1.{c}_service_pb2") for c in contexts]


def collect_rules(contexts: Iterable[str] = CONTEXTS) -> list[Rule]:
    """All HTTP rules of all services, verb routes first (so ``/x/{id}`` never eats ``/x/{id}:verb``)."""
    rules: list[Rule] = []
    for ctx, mod in zip(contexts, load_service_modules(contexts), strict=True):
        for svc in mod.DESCRIPTOR.services_by_name.values():
            for m in svc.methods:
                opts = m.GetOptions()
                if not opts.HasExtension(annotations_pb2.http):
                    continue
                for b in _bindings(opts.Extensions[annotations_pb2.http]):
                    kind = b.WhichOneof("pattern")
                    if kind is None or kind == "custom":
                        continue
                    r = Rule(ctx, svc.full_name, m, kind.upper(), getattr(b, kind), b.body)
                    _compile(r)
                    rules.append(r)
    rules.sort(key=lambda r: (not r.has_verb, r.route_path.count("{")))
    return rules
