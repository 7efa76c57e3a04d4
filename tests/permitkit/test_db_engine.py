"""permitkit.db.make_engine on PostgreSQL: reads cost one round trip (no BEGIN, no
ROLLBACK), writes and locks still run in one transaction that commits or rolls back
as a whole."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from permitkit.db import SINGLE_STATEMENT, make_engine, make_session_factory, needs_transaction

pytestmark = pytest.mark.integration


@pytest.fixture
def engine(make_database):
    engine = make_engine(make_database("engine"))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE item (id int primary key, note text not null)"))
        conn.execute(text("INSERT INTO item VALUES (1, 'one')"))
    yield engine
    engine.dispose()


def test_plain_reads_and_locking_reads_are_told_apart() -> None:
    assert not needs_transaction("SELECT item.id FROM item WHERE item.id = %(id)s")
    assert not needs_transaction("\n (SELECT 1) UNION ALL (SELECT 2)")
    for s in ("SELECT id FROM item FOR UPDATE", "SELECT id FROM item FOR UPDATE OF item SKIP LOCKED",
              "select id from item for no key update", "SELECT id FROM item FOR SHARE",
              "INSERT INTO item VALUES (2, 'x')", "UPDATE item SET note = 'x'", "DELETE FROM item",
              "SAVEPOINT sa_savepoint_1", "SELECT pg_advisory_xact_lock(%(k)s)",
              "SELECT set_config('app.user', %(u)s, true)", "WITH x AS (DELETE FROM item RETURNING id) SELECT id FROM x"):
        assert needs_transaction(s), s


def test_a_read_only_session_leaves_the_connection_idle(engine) -> None:
    factory = make_session_factory(engine)
    with factory() as session:
        assert session.execute(text("SELECT note FROM item WHERE id = 1")).scalar_one() == "one"
        status = session.connection().connection.dbapi_connection.info.transaction_status
        assert int(status) == 0  # idle: no BEGIN was sent for a read
        session.rollback()


def test_a_single_statement_write_commits_by_itself_without_a_transaction_block(engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("INSERT INTO item VALUES (2, 'two')"))
        assert int(conn.connection.dbapi_connection.info.transaction_status) == 2  # in a transaction
        conn.rollback()
        single = conn.execution_options(**{SINGLE_STATEMENT: True})
        assert single.execute(text("INSERT INTO item VALUES (3, 'three') RETURNING id")).scalar_one() == 3
        assert int(conn.connection.dbapi_connection.info.transaction_status) == 0  # idle: committed
        conn.rollback()  # nothing to roll back
    with engine.connect() as conn:
        assert conn.execute(text("SELECT id FROM item ORDER BY id")).scalars().all() == [1, 3]


def test_writes_are_one_transaction_rolled_back_as_a_whole(engine) -> None:
    factory = make_session_factory(engine)
    with factory() as session:
        session.execute(text("INSERT INTO item VALUES (2, 'two')"))
        session.execute(text("UPDATE item SET note = 'changed' WHERE id = 1"))
        session.rollback()
    with factory() as session:
        assert session.execute(text("SELECT count(*) FROM item")).scalar_one() == 1
        assert session.execute(text("SELECT note FROM item WHERE id = 1")).scalar_one() == "one"
        session.execute(text("INSERT INTO item VALUES (3, 'three')"))
        session.commit()
    with factory() as session:
        assert session.execute(text("SELECT note FROM item WHERE id = 3")).scalar_one() == "three"


def test_a_row_locked_for_update_stays_locked_until_commit(engine) -> None:
    factory = make_session_factory(engine)
    holder: Session = factory()
    holder.execute(text("SELECT id FROM item WHERE id = 1 FOR UPDATE"))
    done = threading.Event()

    def other() -> None:
        with factory() as s:
            s.execute(text("UPDATE item SET note = 'other' WHERE id = 1"))
            s.commit()
        done.set()

    t = threading.Thread(target=other)
    t.start()
    assert not done.wait(0.5)  # blocked by the lock
    holder.execute(text("UPDATE item SET note = 'holder' WHERE id = 1"))
    holder.commit()
    holder.close()
    t.join(10)
    assert done.is_set()
    with factory() as s:
        assert s.execute(text("SELECT note FROM item WHERE id = 1")).scalar_one() == "other"


def test_a_savepoint_inside_a_transaction_rolls_back_alone(engine) -> None:
    factory = make_session_factory(engine)
    with factory() as session:
        session.execute(text("INSERT INTO item VALUES (4, 'four')"))
        with pytest.raises(Exception):  # noqa: B017 - the unique violation of the nested insert
            with session.begin_nested():
                session.execute(text("INSERT INTO item VALUES (4, 'again')"))
        session.commit()
    with factory() as s:
        assert s.execute(text("SELECT note FROM item WHERE id = 4")).scalar_one() == "four"
