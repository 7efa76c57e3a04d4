"""Fixtures of the application's unit tests: the in-memory store, seeded with the
demo export (the PC side's fleet and agents), and units of work over it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from permit_application import services as svc
from tests.application.conftest import DEMO_EXPORT, NOW
from tests.application.unit.fakes import FakeUnitOfWork, Store


@pytest.fixture
def store() -> Store:
    s = Store()
    svc.import_legacy_records(FakeUnitOfWork(s), export=DEMO_EXPORT, check_caller=False, now=NOW)
    return s


@pytest.fixture
def uow(store: Store) -> Callable[[], FakeUnitOfWork]:
    return lambda: FakeUnitOfWork(store)
