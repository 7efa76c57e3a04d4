"""The composition root: the only place that constructs routing's parts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from sqlalchemy.engine import Engine

from permit_routing import event_handlers
from permit_routing.config import Settings
from permit_routing.errors import DOMAIN
from permit_routing.grpc_api import RoutingServicer, service_specs
from permit_routing.reference import ReferenceData, load_reference_data
from permit_routing.unit_of_work import RoutingUnitOfWork
from permitkit.db import make_engine, make_session_factory
from permitkit.server import ServiceSpec


@dataclass
class App:
    """The assembled service: settings, reference data, storage and servicer."""

    domain: ClassVar[str] = DOMAIN

    settings: Settings
    ref: ReferenceData
    engine: Engine | None
    uow_factory: Callable[[], RoutingUnitOfWork]
    servicer: RoutingServicer

    def grpc_services(self) -> Sequence[ServiceSpec]:
        return service_specs(self.servicer)

    def start(self) -> None:
        """Routing runs nothing in the background."""

    def close(self) -> None:
        if self.engine is not None:
            self.engine.dispose()


def build(settings: Settings, *, uow_factory: Callable[[], RoutingUnitOfWork] | None = None,
          ref: ReferenceData | None = None) -> App:
    """Wire the service; tests may pass a fake unit-of-work factory or reference data."""
    ref = ref or load_reference_data()
    engine: Engine | None = None
    if uow_factory is None:
        engine = make_engine(settings.database_url)
        sessions = make_session_factory(engine)

        def uow_factory() -> RoutingUnitOfWork:
            return RoutingUnitOfWork(sessions)

    servicer = RoutingServicer(ref=ref, uow_factory=uow_factory)
    servicer.event_sink = event_handlers.sink(uow_factory, ref)
    return App(settings=settings, ref=ref, engine=engine, uow_factory=uow_factory, servicer=servicer)
