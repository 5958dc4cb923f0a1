"""Engines, sessions and schema migrations of the operational store."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from clientbook.errors import StoreUnavailable, UsageError

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # Writers take the lock up front (BEGIN IMMEDIATE) and so wait on busy_timeout instead of
    # failing when a deferred read transaction cannot be upgraded; readers stay concurrent.
    write = conn.get_execution_options().get("clientbook_write", True)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@lru_cache(maxsize=64)
def _normalise_url(url: str) -> str:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise UsageError(
            f"Cannot read the database URL {url!r}.",
            hint="Use sqlite:///path/to/file.db or postgresql://user@host/dbname.",
        ) from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


_ENGINES: dict[str, Engine] = {}
_FACTORIES: dict[tuple[str, bool], sessionmaker[Session]] = {}
_GATES: dict[str, WriteGate] = {}
#: How long a SQLite writer waits for its turn, as long as SQLite's own busy timeout.
WRITE_WAIT = 30.0


class WriteGate:
    """First come, first served turns at the one SQLite write lock, among a process's threads.

    SQLite's busy handler polls with growing sleeps, so a thread that commits in a loop (the
    event processor) could starve the others, and a waiter sleeps long after the lock is free.
    Queued here, a writer is let in the moment its turn comes; ``waiting`` tells a long-running
    writer that it should commit and let the others in.
    """

    def __init__(self) -> None:
        self._turns = threading.Condition()
        self._next = 0  # the next ticket to hand out
        self._serving = 0  # the ticket whose holder may write
        self._gone: set[int] = set()  # tickets of writers who stopped waiting

    def acquire(self, timeout: float) -> bool:
        """Wait for this thread's turn; False when ``timeout`` seconds passed first."""
        deadline = time.monotonic() + timeout
        with self._turns:
            ticket = self._next
            self._next += 1
            while ticket != self._serving:
                left = deadline - time.monotonic()
                if left <= 0:
                    self._gone.add(ticket)  # its turn will be skipped
                    return False
                self._turns.wait(left)
            return True

    def release(self) -> None:
        """End this writer's turn."""
        with self._turns:
            self._serving += 1
            while self._serving in self._gone:
                self._gone.remove(self._serving)
                self._serving += 1
            self._turns.notify_all()

    @property
    def waiting(self) -> int:
        """How many writers are queued behind the one writing."""
        return max(0, self._next - self._serving - 1 - len(self._gone))


#: Files beside a SQLite database through which writers of different processes coordinate:
#: foreground writers hold ``-writers`` shared while they wait and write; a background writer
#: holds ``-background`` exclusively during its transaction.
WRITERS, BACKGROUND = "-writers", "-background"
#: Seconds without a foreground write before a background writer may start a transaction: on
#: SQLite, under steady ingest the event processor waits for a lull (its backlog is kept).
IDLE_GAP = 0.05


@lru_cache(maxsize=64)
def _signal_path(url: str, suffix: str) -> str | None:
    if not url.startswith("sqlite"):
        return None
    database = make_url(_normalise_url(url)).database
    if not database or database == ":memory:":
        return None
    return database + suffix


def _open_signal(url: str, suffix: str = WRITERS) -> int | None:
    """A coordination file, opened; None when it does not apply or cannot be opened."""
    path = _signal_path(url, suffix)
    if path is None:
        return None
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:  # no such directory, read-only: the database itself will say what is wrong
        return None


@contextmanager
def _announced(url: str) -> Iterator[None]:
    """Hold a shared lock on the writers' file while waiting for and holding the write lock.

    A background writer in another process (the event processor) sees it and ends its
    transaction early, so that foreground writers never wait behind a long one.
    """
    fd = _open_signal(url)
    if fd is None:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        os.utime(fd)  # the file's time says when a foreground writer last came
        yield
    finally:
        os.close(fd)  # closing releases the lock


def writers_waiting(url: str) -> int:
    """Writers waiting for (or holding) the SQLite write lock, this process's and others'.

    Always 0 on PostgreSQL. Writers of other processes count as one.
    """
    gate = _GATES.get(_normalise_url(url))
    waiting = gate.waiting if gate else 0
    fd = _open_signal(url)
    if fd is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            waiting += 1
        finally:
            os.close(fd)
    return waiting


@contextmanager
def _flock(url: str, suffix: str, *, hold: bool) -> Iterator[None]:
    """Take an exclusive lock on a coordination file; keep it for the block only if ``hold``."""
    fd = _open_signal(url, suffix)
    if fd is None:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if not hold:
            os.close(fd)
            fd = -1
        yield
    finally:
        if fd >= 0:
            os.close(fd)


def wait_for_foreground_writers(url: str) -> None:
    """Block until no writer of another process waits for or holds the SQLite write lock, and
    none has come for :data:`IDLE_GAP` seconds."""
    fd = _open_signal(url)
    if fd is None:
        return
    try:
        while True:
            fcntl.flock(fd, fcntl.LOCK_EX)
            quiet = time.time() - os.fstat(fd).st_mtime
            fcntl.flock(fd, fcntl.LOCK_UN)
            if quiet >= IDLE_GAP:
                return
            time.sleep(IDLE_GAP - quiet)
    finally:
        os.close(fd)


def get_engine(url: str) -> Engine:
    """One engine per database URL (cached), with SQLite in WAL mode."""
    url = _normalise_url(url)
    if url in _ENGINES:
        return _ENGINES[url]
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling is switched off so that our BEGIN is the real one.
        event.listen(engine, "connect", lambda conn, _r: setattr(conn, "isolation_level", None))
        event.listen(engine, "begin", _sqlite_begin)
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    _ENGINES[url] = engine
    return engine


def dispose_engines() -> None:
    """Close and forget every cached engine (tests and forked workers call this)."""
    _FACTORIES.clear()
    while _ENGINES:
        _ENGINES.popitem()[1].dispose()


def _factory(url: str, write: bool) -> sessionmaker[Session]:
    factory = _FACTORIES.get((url, write))
    if factory is None:
        engine = get_engine(url).execution_options(clientbook_write=write)
        factory = _FACTORIES[(url, write)] = sessionmaker(engine, expire_on_commit=False)
    return factory


@contextmanager
def connection_scope(url: str) -> Iterator[Connection]:
    """A write transaction on a bare Core connection, for hot paths that need no ORM session.

    Like :func:`session_scope`: commits on success, rolls back on error, waits its turn on SQLite.
    """
    with _turn(url, True):
        try:
            with get_engine(url).begin() as connection:
                yield connection
        except OperationalError as exc:
            raise unavailable(url, exc) from exc


@contextmanager
def _turn(url: str, write: bool, background: bool = False) -> Iterator[None]:
    """On SQLite, a write unit waits for its turn at the write lock (see :class:`WriteGate`).

    A foreground writer announces itself to other processes while it waits and writes (see
    :func:`_announced`); a background one does not, and holds the ``-background`` file instead
    while it writes.
    """
    if not write or not url.startswith("sqlite"):
        yield
        return
    with nullcontext() if background else _announced(url):
        gate = _GATES.setdefault(_normalise_url(url), WriteGate())
        if not gate.acquire(WRITE_WAIT):
            raise unavailable(url, OperationalError("BEGIN", None, Exception("database is locked")))
        try:
            yield
        finally:
            gate.release()


@contextmanager
def session_scope(url: str, *, write: bool = True, background: bool = False) -> Iterator[Session]:
    """A unit of work: commits on success, rolls back on any error.

    ``write=False`` marks a read-only unit, which on SQLite does not take the write lock.
    ``background=True`` marks a writer that yields to the others (the event processor): it does
    not announce itself, and should end early when :func:`writers_waiting` says so.
    """
    with _turn(url, write, background):
        session = _factory(url, write)()
        try:
            yield session
            session.commit()
        except OperationalError as exc:
            session.rollback()
            raise unavailable(url, exc) from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


def unavailable(url: str, exc: SQLAlchemyError) -> StoreUnavailable:
    """Translate a driver error into a message that says what to do."""
    shown = make_url(_normalise_url(url)).render_as_string(hide_password=True)
    text = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else repr(exc)
    if "no such table" in text or "does not exist" in text and "relation" in text:
        return StoreUnavailable(
            f"The database {shown} has no Clientbook schema.",
            hint="Run `clientbook init` first.",
        )
    return StoreUnavailable(
        f"Cannot use the database {shown}: {text}.",
        hint="Check CLIENTBOOK_DATABASE_URL (or --db) and that the server is running.",
    )


def alembic_config(url: str) -> Config:
    """An Alembic configuration for ``url`` that needs no alembic.ini."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", _normalise_url(url).replace("%", "%%"))
    config.attributes["engine"] = get_engine(url)
    return config


def migrate(url: str) -> list[str]:
    """Bring the schema to the newest revision of every branch; return the heads now applied."""
    config = alembic_config(url)
    try:
        command.upgrade(config, "heads")
    except OperationalError as exc:
        raise unavailable(url, exc) from exc
    return schema_revisions(url)


def schema_revisions(url: str) -> list[str]:
    """The revisions the database is at (empty when it was never initialised)."""
    try:
        with get_engine(url).connect() as connection:
            return sorted(MigrationContext.configure(connection).get_current_heads())
    except OperationalError as exc:
        raise unavailable(url, exc) from exc


@cache
def code_heads() -> frozenset[str]:
    """The newest revision of every migration branch this code ships (read once per process)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def require_schema(url: str) -> None:
    """Fail with a clear message unless the database is at the newest schema."""
    current = set(schema_revisions(url))
    heads = code_heads()
    if not current:
        raise StoreUnavailable(
            "The database has no Clientbook schema.", hint="Run `clientbook init` first."
        )
    if current != heads:
        raise StoreUnavailable(
            "The database schema is older than this Clientbook.",
            hint="Run `clientbook init` to migrate it.",
        )
