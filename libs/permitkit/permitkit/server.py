"""The service skeleton's server: every service's composition root (``App``)
is served by ``build_server(app)`` / ``serve(app)``; the server has health,
reflection, request id, caller identity, error translation, one access-log
line per RPC and a graceful stop on SIGTERM."""

from __future__ import annotations

import gc
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent import futures
from typing import Any, ClassVar, Protocol

import grpc
import structlog
from google.protobuf.message import Message
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from permitkit import context as ctx
from permitkit import debug
from permitkit.db import is_db_conflict, is_transient_db_error, retry_transient, track_commits
from permitkit.errors import Aborted, InvalidArgument, PermitError, Unavailable, to_rpc_status
from permitkit.metrics import observe_rpc
from permitkit.settings import ServiceSettings

log = structlog.get_logger("permitkit.server")

ServiceSpec = tuple[Callable[[Any, grpc.Server], None], Any, str]
"""(add_XServicer_to_server, servicer, full service name)."""


class ServiceApp(Protocol):
    """What ``permit_<ctx>.bootstrap.App`` offers, in every service."""

    domain: ClassVar[str]
    """The ErrorInfo domain of the service's errors (``permit.routing``)."""

    @property
    def settings(self) -> ServiceSettings: ...

    def grpc_services(self) -> Sequence[ServiceSpec]:
        """The gRPC services the process serves."""
        ...

    def start(self) -> None:
        """Start background work (outbox relay, sweeper); called once serving."""
        ...

    def close(self) -> None:
        """Stop background work and release connections."""
        ...


class _Interceptor(grpc.ServerInterceptor):
    """Binds request id + principal, translates PermitError, logs one line per RPC."""

    def __init__(self, domain: str) -> None:
        self.domain = domain

    def intercept_service(self, continuation, handler_call_details):  # type: ignore[no-untyped-def]
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        if method.startswith("/grpc.health") or method.startswith("/grpc.reflection"):
            return handler
        domain = self.domain

        def prepare(context: grpc.ServicerContext) -> tuple[tuple[object, object], float, str]:
            md = context.invocation_metadata() or ()
            rid = next((v for k, v in md if k == ctx.REQUEST_ID), None) or ctx.new_request_id()
            principal = ctx.Principal.from_metadata(md)
            structlog.contextvars.clear_contextvars()
            tokens = ctx.set_current(principal, str(rid))
            context.set_trailing_metadata(((ctx.REQUEST_ID, str(rid)),))
            return tokens, time.perf_counter(), principal.subject if principal else "-"

        def fail(exc: BaseException, context: grpc.ServicerContext) -> grpc.StatusCode:
            if not isinstance(exc, PermitError) and is_db_conflict(exc):
                log.warning("rpc_database_conflict", method=method, error=str(exc)[:300])
                exc = DatabaseConflict()
            elif not isinstance(exc, PermitError) and is_transient_db_error(exc):
                log.warning("rpc_database_unavailable", method=method, error=str(exc)[:300])
                exc = DatabaseUnavailable()
            if isinstance(exc, PermitError):
                context.abort_with_status(to_rpc_status(exc, domain))
            log.exception("rpc_unhandled_exception", method=method)
            context.abort(grpc.StatusCode.INTERNAL, "系统内部错误，请稍后重试。")
            raise AssertionError("unreachable")

        def finish(tokens: tuple[object, object], started: float, subject: str,
                   context: grpc.ServicerContext, code: str) -> None:
            elapsed = time.perf_counter() - started
            observe_rpc(method, code, elapsed)
            log.info("rpc", method=method, code=code, subject=subject, ms=round(elapsed * 1000, 2))
            ctx.reset_current(tokens)

        def code_of(exc: BaseException | None, context: grpc.ServicerContext) -> str:
            if exc is None:
                c = context.code() if hasattr(context, "code") else None
                return c.name if isinstance(c, grpc.StatusCode) else "OK"
            if isinstance(exc, PermitError):
                return exc.code.name
            if is_db_conflict(exc):
                return "ABORTED"
            if is_transient_db_error(exc):
                return "UNAVAILABLE"
            return "INTERNAL" if not _is_abort(exc) else "ABORTED_BY_HANDLER"

        def wrap_unary(behavior: Callable[..., Any], unary_request: bool) -> Callable[..., Any]:
            def inner(request_or_iterator: Any, context: grpc.ServicerContext) -> Any:
                tokens, started, subject = prepare(context)
                exc: BaseException | None = None
                try:
                    if isinstance(request_or_iterator, Message):
                        reject_nul(request_or_iterator)
                    if unary_request:
                        # A lost database connection before any commit: once more, on a fresh one.
                        return retry_transient(lambda: behavior(request_or_iterator, context))
                    # A streamed request cannot be read twice: no retry here (a handler that
                    # has read it in full retries its use case itself, e.g. documents uploads).
                    track_commits()
                    return behavior(request_or_iterator, context)
                except Exception as e:  # noqa: BLE001 - translated below
                    exc = e
                    if _is_abort(e):
                        raise
                    fail(e, context)
                finally:
                    finish(tokens, started, subject, context, code_of(exc, context))
            return inner

        def wrap_stream(behavior: Callable[..., Iterator[Any]], unary_request: bool) -> Callable[..., Iterator[Any]]:
            def inner(request_or_iterator: Any, context: grpc.ServicerContext) -> Iterator[Any]:
                tokens, started, subject = prepare(context)
                exc: BaseException | None = None
                try:
                    if isinstance(request_or_iterator, Message):
                        reject_nul(request_or_iterator)
                    if unary_request:
                        # Until the first answer is sent, as for unary calls: a lost
                        # connection before any commit is retried once on a fresh one.
                        yield from stream_retry_transient(lambda: behavior(request_or_iterator, context))
                    else:
                        track_commits()
                        yield from behavior(request_or_iterator, context)
                except Exception as e:  # noqa: BLE001
                    exc = e
                    if _is_abort(e):
                        raise
                    fail(e, context)
                finally:
                    finish(tokens, started, subject, context, code_of(exc, context))
            return inner

        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                wrap_unary(handler.unary_unary, True), handler.request_deserializer, handler.response_serializer)
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(
                wrap_unary(handler.stream_unary, False), handler.request_deserializer, handler.response_serializer)
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                wrap_stream(handler.unary_stream, True), handler.request_deserializer, handler.response_serializer)
        return grpc.stream_stream_rpc_method_handler(
            wrap_stream(handler.stream_stream, False), handler.request_deserializer, handler.response_serializer)


def stream_retry_transient(start: Callable[[], Iterator[Any]], *, retries: int = 1) -> Iterator[Any]:
    """The answers of ``start()``; if it fails on a lost database connection before its first
    answer and before any commit, it is started once more (``retry_transient`` for streams).
    Once an answer went out, a failure reaches the caller."""
    attempt = 0
    while True:
        log = track_commits()
        answers = start()
        try:
            first = next(answers)
        except StopIteration:
            return
        except Exception as e:
            if attempt >= retries or log.commits or not is_transient_db_error(e):
                raise
            attempt += 1
            continue
        yield first
        yield from answers
        return


class DatabaseConflict(Aborted):
    """The database rolled the request's transaction back as a deadlock or serialization
    failure, again on every retry: nothing was written, the caller may try again."""

    reason = "CONCURRENT_UPDATE"
    message = "数据正被同时修改，请稍后重试。"


class DatabaseUnavailable(Unavailable):
    """The database could not be reached (or dropped the connection) for this request."""

    reason = "DATABASE_UNAVAILABLE"
    message = "数据服务暂时不可用，请稍后重试。"


def _nul_field(msg: Message, prefix: str = "") -> str | None:
    """The path of the first string field holding U+0000, or None."""
    for fd, value in msg.ListFields():
        path = f"{prefix}{fd.name}"
        if fd.type == fd.TYPE_STRING:
            values = value if fd.is_repeated else [value]
            if any("\x00" in v for v in values):
                return path
        elif fd.type == fd.TYPE_MESSAGE and fd.message_type is not None:
            if fd.message_type.GetOptions().map_entry:
                items = value.items()
                for k, v in items:
                    if isinstance(k, str) and "\x00" in k or isinstance(v, str) and "\x00" in v:
                        return path
                    if isinstance(v, Message) and (found := _nul_field(v, f"{path}.")):
                        return found
                continue
            for i, sub in enumerate(value if fd.is_repeated else [value]):
                found = _nul_field(sub, f"{path}[{i}]." if fd.is_repeated else f"{path}.")
                if found:
                    return found
    return None


def reject_nul(msg: Message) -> None:
    """No text field may carry U+0000: no database stores it, and no person types it.

    A string holding U+0000 holds a zero byte in the message's wire form, so a request
    without one (nearly all: a zero byte there is a zero number or an empty string of a
    repeated field) is let through on one scan in C; only the rest are walked field by
    field for the path of the offending one."""
    if b"\x00" not in msg.SerializeToString():
        return
    field = _nul_field(msg)
    if field is not None:
        raise InvalidArgument("输入内容包含无效字符，请检查后重试。", reason="INVALID_CHARACTER", field=field)


def _is_abort(e: BaseException) -> bool:
    # context.abort() raises a bare, argument-less Exception after setting the
    # status; it must pass through untouched.
    return type(e) is Exception and not e.args


def build_server(app: ServiceApp, *, host: str | None = None,
                 port: int | None = None) -> tuple[grpc.Server, int]:
    """The server (not started) of ``app`` and its bound port.

    ``host``/``port`` default to the app's settings; port 0 binds a free port.
    """
    s = app.settings
    return grpc_server(domain=app.domain, services=app.grpc_services(),
                       host=s.grpc_host if host is None else host,
                       port=s.grpc_port if port is None else port,
                       max_workers=s.grpc_workers)


def settle_heap() -> None:
    """Collect once, then move every object alive now to the permanent generation.

    Called when a process has started and is about to serve: its modules, classes,
    compiled statements and the app itself (about 140,000 objects in a service) are
    never garbage, yet every full collection would scan them again: about 70 ms on this
    project's machine, a stall for whichever calls were running. Frozen, they are
    left out, and a full collection scans only what the calls created."""
    gc.collect()
    gc.freeze()


def serve(app: ServiceApp) -> int:
    """``python -m permit_<ctx> serve``: bind, start the app's background work,
    block until SIGTERM/SIGINT, drain, close. A port that cannot be bound exits 1."""
    try:
        server, port = build_server(app)
    except OSError as e:
        log.error("bind_failed", service=app.settings.context, error=str(e))
        app.close()
        return 1
    debug.install(app.settings.context, os.environ)
    try:
        app.start()
        log.info("serving", service=app.settings.context, host=app.settings.grpc_host, port=port)
        settle_heap()
        serve_until_signal(server, metrics_port=app.settings.metrics_port,
                           metrics_host=app.settings.metrics_host)
    finally:
        app.close()
    return 0


class HealthServicer(health.HealthServicer):  # type: ignore[misc]  # grpc_health has no types
    """gRPC health (Check, Watch) that never sends to a watcher while holding the state lock.

    grpc_health's servicer sends a status to each watcher with its lock held, and a
    send waits until the server's single event thread reports it done; that same
    thread runs the callback of a watch that closed, which takes the lock. A peer's
    watch closing while another opened (peers restarting) or while the status was set
    (the graceful stop) left both threads waiting for each other for ever: the
    worker thread never ended and the server never stopped (grpc/grpc#43403).

    Here the state (statuses, watchers) has its own lock, held only briefly and
    never while sending; sends are serialised by a second lock that the closing
    callback never takes, so each watcher still sees the statuses in order.
    """

    def __init__(self) -> None:
        super().__init__(experimental_non_blocking=True)
        self._send_lock = threading.Lock()
        self._gracefully_shutting_down: bool = False

    def _on_close_callback(self, send_response_callback: Callable[[Any], None],
                           service: str) -> Callable[[], None]:
        def callback() -> None:
            with self._lock:
                watching = self._send_response_callbacks.get(service, set())
                if send_response_callback not in watching:
                    return  # ended already, by the graceful stop
                watching.discard(send_response_callback)
            send_response_callback(None)  # ends the stream; does not wait
        return callback

    def Watch(self, request: Any, context: grpc.ServicerContext,  # noqa: N802 - gRPC method name
              send_response_callback: Callable[[Any], None] | None = None) -> Any:
        blocking_watcher = None
        if send_response_callback is None:  # a server without non-blocking streams
            blocking_watcher = health._Watcher()
            send_response_callback = health._watcher_to_send_response_callback_adapter(blocking_watcher)
        service = request.service
        with self._send_lock:
            with self._lock:
                status = self._server_status.get(service, health_pb2.HealthCheckResponse.SERVICE_UNKNOWN)
                stopping = self._gracefully_shutting_down
                if not stopping:
                    self._send_response_callbacks.setdefault(service, set()).add(send_response_callback)
            if stopping:  # a watch opened during the stop is told so and ended at once
                send_response_callback(health_pb2.HealthCheckResponse(status=status))
                send_response_callback(None)
                return blocking_watcher
            closed = self._on_close_callback(send_response_callback, service)
            if not context.add_callback(closed):  # the call ended already
                closed()
                return blocking_watcher
            send_response_callback(health_pb2.HealthCheckResponse(status=status))
        return blocking_watcher

    def set(self, service: str, status: Any) -> None:
        with self._send_lock:
            self._set(service, status)

    def _set(self, service: str, status: Any) -> None:
        """``set`` with the send lock held."""
        with self._lock:
            if self._gracefully_shutting_down:
                return
            self._server_status[service] = status
            watchers = list(self._send_response_callbacks.get(service, ()))
        for send in watchers:
            send(health_pb2.HealthCheckResponse(status=status))

    def enter_graceful_shutdown(self) -> None:
        """Every status NOT_SERVING, told to every watcher, whose stream then ends: an open
        watch would otherwise hold the server's stop for its whole grace period."""
        with self._send_lock:
            with self._lock:
                services = [] if self._gracefully_shutting_down else list(self._server_status)
            for service in services:
                self._set(service, health_pb2.HealthCheckResponse.NOT_SERVING)
            with self._lock:
                self._gracefully_shutting_down = True
                watchers = [send for sends in self._send_response_callbacks.values() for send in sends]
                self._send_response_callbacks.clear()
            for send in watchers:
                send(None)


def grpc_server(
    *,
    domain: str,
    services: Sequence[ServiceSpec],
    host: str = "127.0.0.1",
    port: int = 0,
    max_workers: int = 16,
    interceptors: Sequence[grpc.ServerInterceptor] = (),
    options: Sequence[tuple[str, Any]] = (),
) -> tuple[grpc.Server, int]:
    """Build (not start) a server for ``services`` = [(add_fn, servicer, full_name)].

    ``domain`` (``permit.application``) goes into every ErrorInfo. Port 0 binds
    a free port; the bound port is returned.
    """
    executor = futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="rpc")
    server = grpc.server(
        executor,
        interceptors=[_Interceptor(domain), *interceptors],
        # No SO_REUSEPORT: a second process on the same port must fail, not share it.
        # Peers' channels send keepalive pings every 20 s (permitkit.client): accept them.
        options=[("grpc.so_reuseport", 0), ("grpc.keepalive_permit_without_calls", 1),
                 ("grpc.http2.min_recv_ping_interval_without_data_ms", 10_000), *options],
    )
    health_servicer = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = []
    for add_fn, servicer, full_name in services:
        add_fn(servicer, server)
        names.append(full_name)
        health_servicer.set(full_name, health_pb2.HealthCheckResponse.SERVING)
    health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection(
        [*names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME],
        server,
    )
    try:
        bound = server.add_insecure_port(f"{host}:{port}")
    except RuntimeError as e:
        raise OSError(f"cannot bind gRPC port {host}:{port}: address in use or not available") from e
    if bound == 0:
        raise OSError(f"cannot bind gRPC port {host}:{port}")
    server._permit_health = health_servicer  # type: ignore[attr-defined]
    server._permit_executor = executor  # type: ignore[attr-defined]
    return server, bound


def serve_until_signal(server: grpc.Server, *, grace: float = 5.0,
                       on_stop: Callable[[], None] | None = None,
                       metrics_port: int = 0, metrics_host: str = "127.0.0.1") -> None:
    """Start ``server`` and block until SIGTERM/SIGINT, then drain for ``grace`` seconds.

    ``metrics_port`` (0: off) exposes Prometheus /metrics.
    """
    from permitkit.metrics import serve_metrics

    serve_metrics(metrics_port, metrics_host)
    stop = threading.Event()

    def handle(signum: int, _frame: Any) -> None:
        log.info("shutdown_requested", signal=signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    server.start()
    # Python runs a signal's handler on the main thread, between bytecodes; the kernel
    # gives a process's SIGTERM to any of its threads (gRPC's, a relay's). Had it gone to
    # another thread, a wait without a timeout would never wake to run the handler, and
    # the process would not stop until killed. So the main thread wakes now and then.
    while not stop.wait(0.5):
        pass
    health_servicer = getattr(server, "_permit_health", None)
    if health_servicer is not None:
        health_servicer.enter_graceful_shutdown()
    if not server.stop(grace).wait(grace + 5.0):
        log.warning("server_stop_timed_out", grace=grace)
    # grpc does not end its workers' pool: idle workers would wait for work until
    # interpreter shutdown. Ended here, a worker still running is a handler that
    # did not return, and the process names it at exit (permitkit.settings.run_main).
    executor = getattr(server, "_permit_executor", None)
    if executor is not None:
        executor.shutdown(wait=False, cancel_futures=True)
    if on_stop:
        on_stop()
    log.info("server_stopped")
