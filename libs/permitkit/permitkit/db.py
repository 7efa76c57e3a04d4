"""SQLAlchemy 2.0 base pieces: declarative base, engine, repository and unit of work."""

from __future__ import annotations

import contextvars
import datetime as dt
import functools
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Generic, Self, TypeVar

from sqlalchemy import DateTime, MetaData, Table, TextClause, bindparam, create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """Timezone-aware now in UTC (stored as timestamptz)."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """timestamptz on PostgreSQL; on SQLite (no tz support) stored naive UTC and read back aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: use permitkit.db.utcnow()")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value


TYPE_ANNOTATION_MAP: dict[Any, Any] = {dt.datetime: UTCDateTime()}


def make_base() -> type[DeclarativeBase]:
    """A fresh declarative base with its own MetaData and the naming convention."""

    class Base(DeclarativeBase):
        metadata = MetaData(naming_convention=NAMING_CONVENTION)
        type_annotation_map = {dt.datetime: UTCDateTime()}

    return Base


class TimestampMixin:
    """``create_time`` / ``update_time`` columns kept by the ORM."""

    create_time: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    update_time: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


def make_engine(url: str, *, echo: bool = False, pool_size: int = 10) -> Engine:
    """Engine for ``postgresql+psycopg://`` or an embedded ``sqlite:///`` file."""
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
            # SQLite: take the write lock at BEGIN so check-then-insert rules serialise.
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    # No ping before every checkout (a round trip per use case): connections are
    # recycled before a server or proxy idle timeout would drop them, and a
    # connection found dead is invalidated with its pool (SQLAlchemy's disconnect
    # handling), so the next checkout opens a fresh one.
    #
    # Transactions begin at the first statement that writes or locks: reads before
    # it run on their own (under READ COMMITTED every statement takes a fresh
    # snapshot anyway), so a read-only use case costs one round trip per query
    # instead of BEGIN + query + ROLLBACK. COMMIT and ROLLBACK go to the server only
    # when a transaction was begun (psycopg skips them on an idle connection).
    engine = create_engine(url, echo=echo, pool_size=pool_size, max_overflow=pool_size,
                           pool_pre_ping=False, pool_recycle=300, pool_use_lifo=True,
                           isolation_level="AUTOCOMMIT")

    @event.listens_for(engine, "before_cursor_execute")
    def _begin_before_writes(conn: Any, cursor: Any, statement: str, _params: Any, context: Any, *_: Any) -> None:
        dbapi_conn = cursor.connection
        if dbapi_conn.info.transaction_status == 0 and needs_transaction(statement):  # 0: idle
            if context is not None and context.execution_options.get(SINGLE_STATEMENT):
                return  # a statement that is a whole transaction commits on its own
            dbapi_conn.execute("BEGIN")

    return engine


# Execution option: the statement is a whole transaction on its own (one round trip: no
# BEGIN before it, no COMMIT after it). Only for one statement on a connection of its own.
SINGLE_STATEMENT = "permitkit_single_statement"


# Row locks, and functions whose effect lasts only as long as the transaction.
_LOCKING_READ = re.compile(r"\bFOR\s+(UPDATE|NO\s+KEY\s+UPDATE|SHARE|KEY\s+SHARE)\b"
                           r"|pg_advisory_xact|pg_try_advisory_xact|set_config", re.IGNORECASE)


@functools.lru_cache(maxsize=4096)
def needs_transaction(statement: str) -> bool:
    """False only for a plain read: a SELECT that locks nothing and sets nothing."""
    head = statement.lstrip(" \t\r\n(")[:6].upper()
    return head != "SELECT" or _LOCKING_READ.search(statement) is not None


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def upsert_insert(dialect: str) -> Callable[..., Any]:
    """The dialect's ``insert``, which has ``on_conflict_do_nothing`` and
    ``on_conflict_do_update``: PostgreSQL's, else SQLite's (the two the services run on)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert
        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert
    return sqlite_insert


def precompiled(stmt: Any, dialect: str, columns: Sequence[str]) -> TextClause:
    """``stmt``, an INSERT whose parameters are ``columns`` by name, compiled once for
    ``dialect`` (its name) into a text clause.

    SQLAlchemy 2.0 compiles an ``INSERT ... ON CONFLICT`` again at every execution (the
    dialects' ``Insert`` opts out of its statement cache); a text clause is compiled once
    and cached. Keep the result (``functools.cache`` on the dialect's name) and execute it
    with every column's value (``with_defaults``): each bind keeps its column's type (a
    ``TypeDecorator`` still converts), but a column's Python-side default is not applied.
    """
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql.base import PGDialect as Named
    else:
        from sqlalchemy.dialects.sqlite.base import SQLiteDialect as Named  # type: ignore[assignment]
    named = Named(paramstyle="named")  # type: ignore[no-untyped-call]  # no driver casts in the text
    # for_executemany: no implicit RETURNING of the key (one asked for is kept)
    compiled = stmt.compile(dialect=named, column_keys=list(columns), for_executemany=True)
    # The columns' binds take the values executed with; any other (a constant of the
    # statement, as in ``ON CONFLICT DO UPDATE SET flag = false``) keeps its own.
    return text(compiled.string).bindparams(*(
        bindparam(name, type_=b.type) if name in columns else bindparam(name, b.value, type_=b.type)
        for b, name in compiled.bind_names.items()))


def with_defaults(table: Table, columns: Sequence[str], values: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters of a ``precompiled`` statement: each column's value from ``values``,
    or, when it is missing or None, the column's Python-side default (a value or a callable)."""
    out: dict[str, Any] = {}
    for name in columns:
        value = values.get(name)
        default = table.c[name].default
        if value is None and default is not None:
            value = default.arg(None) if default.is_callable else default.arg  # type: ignore[attr-defined]
        out[name] = value
    return out


def is_unique_violation(exc: BaseException) -> bool:
    """True for a unique/primary-key violation on PostgreSQL or SQLite."""
    if not isinstance(exc, IntegrityError):
        return False
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate is not None:
        return bool(sqlstate == "23505")
    return "UNIQUE" in str(orig).upper()


M = TypeVar("M")


# --- transient database errors ---------------------------------------------------
# A connection cut under a unit of work (the server restarted, a failover, an
# operator's pg_terminate_backend) is not a bug of the request: the work is
# retried once on a fresh connection when nothing was committed yet, else the
# caller is told to try again (UNAVAILABLE, DATABASE_UNAVAILABLE), never a 500.

# SQLSTATE classes of a lost or refused connection: 08 connection exception,
# 57P01-57P03 admin shutdown / crash shutdown / cannot connect now.
_TRANSIENT_SQLSTATES = ("08", "57P01", "57P02", "57P03")


def _chain(exc: BaseException) -> Iterator[tuple[BaseException, str | None]]:
    """``exc`` and what it wraps (cause or context), each with its SQLSTATE if any."""
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        code = getattr(getattr(e, "orig", None), "sqlstate", None) or getattr(e, "sqlstate", None)
        yield e, code if isinstance(code, str) else None
        e = e.__cause__ or e.__context__


def is_transient_db_error(exc: BaseException) -> bool:
    """True when ``exc`` (or what it wraps) is a lost or refused database connection."""
    for e, code in _chain(exc):
        # A deadlock or serialization failure (class 40) is the work's own race, not a
        # lost connection: ``is_db_conflict`` and the retry below handle it.
        if code is not None and code.startswith("40"):
            return False
        if isinstance(e, DBAPIError) and (e.connection_invalidated or isinstance(e, OperationalError | InterfaceError)):
            return True
        if code is not None and code.startswith(_TRANSIENT_SQLSTATES):
            return True
        if type(e).__module__.startswith("psycopg") and type(e).__name__ in ("OperationalError", "InterfaceError"):
            return True
    return False


class _CommitLog:
    """How many commits this request has sent to the database (any engine, any session)."""

    __slots__ = ("commits",)

    def __init__(self) -> None:
        self.commits = 0


_commit_log: contextvars.ContextVar[_CommitLog | None] = contextvars.ContextVar("permit_commit_log", default=None)


@event.listens_for(Engine, "commit")
def _count_commit(_conn: Any) -> None:
    log = _commit_log.get()
    if log is not None:
        log.commits += 1


def track_commits() -> _CommitLog:
    """Start counting the commits of the current request (the server calls this per RPC)."""
    log = _CommitLog()
    _commit_log.set(log)
    return log


# SQLSTATEs of a transaction the server rolled back because it lost a race with another:
# 40001 serialization failure, 40P01 deadlock detected. The whole transaction is gone,
# so running the unit of work again from the start is the standard remedy.
_CONFLICT_SQLSTATES = ("40001", "40P01")
CONFLICT_RETRIES = 3


def is_db_conflict(exc: BaseException) -> bool:
    """True when ``exc`` (or what it wraps) is a deadlock or serialization failure."""
    return any(code in _CONFLICT_SQLSTATES for _, code in _chain(exc))


def retry_transient(work: Callable[[], M], *, retries: int = 1, conflict_retries: int = CONFLICT_RETRIES) -> M:
    """Run ``work``; when it failed before anything was committed, run it again.

    A lost connection is retried ``retries`` times on a fresh one; a deadlock or
    serialization failure (the server rolled the transaction back) up to
    ``conflict_retries`` times, after a short random pause so the racers part.
    A failure after a commit went out is not retried here (the write may have
    landed): the caller gets the error and retries with the same request id,
    which the use cases answer idempotently.
    """
    lost = conflicts = 0
    while True:
        log = track_commits()
        try:
            return work()
        except Exception as e:
            if log.commits:
                raise
            if is_db_conflict(e) and conflicts < conflict_retries:
                conflicts += 1
                time.sleep(random.uniform(0.005, 0.02) * conflicts)
                continue
            if lost < retries and is_transient_db_error(e):
                lost += 1
                continue
            raise


class RepositoryBase(Generic[M]):
    """Typed access to one aggregate through the unit of work's session."""

    model: type[M]

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, obj: M) -> M:
        self.session.add(obj)
        return obj

    def get(self, ident: Any, *, for_update: bool = False) -> M | None:
        return self.session.get(self.model, ident, with_for_update=for_update or None)

    def delete(self, obj: M) -> None:
        self.session.delete(obj)


class AbstractUnitOfWork:
    """One use case = one unit of work = one short transaction, explicit commit."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.rollback()

    def commit(self) -> None:
        raise NotImplementedError

    def rollback(self) -> None:
        raise NotImplementedError


class SqlAlchemyUnitOfWork(AbstractUnitOfWork):
    """Opens a session on enter; subclasses attach repositories in ``_attach``."""

    session: Session

    def __init__(self, session_factory: Callable[[], Session]) -> None:
        self._session_factory = session_factory

    def __enter__(self) -> Self:
        self.session = self._session_factory()
        self._attach(self.session)
        return super().__enter__()

    def __exit__(self, *exc: object) -> None:
        # Detach first: the rollback would otherwise expire what a read-only use
        # case loaded and returns (DetachedInstanceError once the session closes).
        self.session.expunge_all()
        super().__exit__(*exc)
        self.session.close()

    def _attach(self, session: Session) -> None:
        """Create repositories on ``session`` (override)."""

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()
