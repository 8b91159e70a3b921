"""Persistence of plans and scenario runs (SQLAlchemy 2 ORM).

Any SQLAlchemy URL works; the default is a SQLite file, opened in WAL mode with a busy
timeout so that concurrent requests (threads of one server, or several server processes on
one file) wait for each other instead of failing. Within one process, writes to SQLite go
through a lock as well, and every write transaction starts with its write, so a reader is
never upgraded into a writer (the cause of SQLite's immediate "database is locked").

Each plan carries a read-only download token. Only its SHA-256 is stored; the token itself is
shown once, in the links of the response that created the plan (or rotated the token).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic_core import to_json
from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    create_engine,
    delete,
    event,
    select,
    update,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, defer, mapped_column, sessionmaker
from sqlalchemy.pool import StaticPool

ID_LENGTH = 32  # uuid4().hex


class Base(DeclarativeBase):
    """Declarative base of the service's tables."""


class ScenarioRunRecord(Base):
    """A saved scenario run: its document and summary (its plans point to it)."""

    __tablename__ = "scenario_runs"
    __table_args__ = {"sqlite_autoincrement": True}

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(ID_LENGTH), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    name: Mapped[str] = mapped_column(String(200))
    document: Mapped[dict] = mapped_column(JSON)
    summary: Mapped[dict] = mapped_column(JSON)


class PlanRecord(Base):
    """A saved plan: summary columns for listing, its inputs and result, its token's hash."""

    __tablename__ = "plans"
    __table_args__ = {"sqlite_autoincrement": True}

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(ID_LENGTH), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(16))  # curves | history | scenario
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    scenario_run_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH),
        ForeignKey("scenario_runs.id", ondelete="SET NULL"),
        nullable=True,
        index=True,
    )
    status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    currency: Mapped[str | None] = mapped_column(String(16), nullable=True)
    result_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    budget: Mapped[float | None] = mapped_column(Float, nullable=True)
    total_spend: Mapped[float | None] = mapped_column(Float, nullable=True)
    expected_results: Mapped[float | None] = mapped_column(Float, nullable=True)
    inputs: Mapped[dict] = mapped_column(JSON)
    result: Mapped[dict] = mapped_column(JSON)
    token_hash: Mapped[str] = mapped_column(String(64))


class RawJSON(str):
    """JSON text already serialised: stored as it is in a JSON column, not encoded again."""

    __slots__ = ()


def dump_json(obj) -> RawJSON:
    """Return compact strict JSON text of plain data (dicts, lists, str, numbers, None).

    pydantic-core's encoder (what FastAPI used for responses; no new dependency): about 5x
    faster than the stdlib's on float-heavy plans and curves. A non-finite number, which
    :func:`scenarios.exports.write.json_safe` has removed already, would be written as ``null``.
    """
    return RawJSON(to_json(obj, inf_nan_mode="null").decode())


def _json_serializer(obj) -> str:
    # the engines' serializer for JSON columns: text serialised once already passes through
    return str(obj) if isinstance(obj, RawJSON) else json.dumps(obj)


@dataclass(frozen=True, slots=True)
class NewPlan:
    """What the service persists for one plan.

    ``inputs_json`` and ``result_json``, when given, are ``inputs`` and ``result`` already
    serialised (:func:`dump_json`): stored as they are, so large plans are encoded once.
    """

    kind: str
    inputs: dict
    result: dict
    name: str | None = None
    inputs_json: RawJSON | None = None
    result_json: RawJSON | None = None


@dataclass(frozen=True, slots=True)
class StoredPlan:
    """A plan as read back from the store (``inputs`` is None unless asked for)."""

    id: str
    created_at: datetime
    kind: str
    name: str | None
    scenario_run_id: str | None
    inputs: dict | None
    result: dict


def iso(dt: datetime) -> str:
    """Return ``dt`` in UTC as ISO 8601 with a ``Z`` (naive datetimes are taken as UTC)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def hash_token(token: str) -> str:
    """Return the hex SHA-256 of a download token (what the database keeps)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_token() -> str:
    """Return a new random download token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def _num(v) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def _stored(rec: PlanRecord, plan: NewPlan | None = None) -> StoredPlan:
    """Return the stored plan of ``rec``.

    ``plan`` (what was just added) gives the dicts, since ``rec`` may hold them as serialised
    text.
    """
    return StoredPlan(
        id=rec.id,
        created_at=rec.created_at,
        kind=rec.kind,
        name=rec.name,
        scenario_run_id=rec.scenario_run_id,
        inputs=plan.inputs if plan is not None else rec.__dict__.get("inputs"),  # None: deferred
        result=plan.result if plan is not None else rec.result,
    )


def _encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"s{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int | None:
    """Return the sequence number in an opaque cursor, or None if it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    if not raw.startswith("s") or not raw[1:].isdigit() or len(raw) > 20:
        return None
    return int(raw[1:])


def make_engine(url: str, busy_timeout_ms: int = 30_000) -> Engine:
    """Create an engine for ``url``; SQLite gets WAL, a busy timeout and foreign keys."""
    u = make_url(url)
    if u.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, json_serializer=_json_serializer)
    memory = u.database in (None, "", ":memory:")
    if not memory:
        Path(u.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    kwargs: dict = {
        "connect_args": {"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
    }
    if memory:
        kwargs["poolclass"] = StaticPool
    engine = create_engine(url, json_serializer=_json_serializer, **kwargs)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - exercised by every test
        cur = dbapi_conn.cursor()
        if not memory:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    return engine


class PlanStore:
    """Plans and scenario runs in one database."""

    def __init__(self, url: str, *, busy_timeout_ms: int = 30_000) -> None:
        self.engine = make_engine(url, busy_timeout_ms)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._write_lock = threading.Lock() if self.is_sqlite else None
        try:
            Base.metadata.create_all(self.engine)
        except (OperationalError, ProgrammingError):  # another process created them first
            Base.metadata.create_all(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def close(self) -> None:
        """Close the engine's connections."""
        self.engine.dispose()

    @contextmanager
    def _writing(self) -> Iterator[Session]:
        with self._write_lock or nullcontext(), self._sessions.begin() as session:
            yield session

    def journal_mode(self) -> str | None:
        """Return SQLite's journal mode (``wal`` for a file), or None for other databases."""
        if not self.is_sqlite:
            return None
        with self.engine.connect() as conn:
            return conn.exec_driver_sql("PRAGMA journal_mode").scalar()

    def ping(self) -> bool:
        """Check that the database answers (``SELECT 1``); its error propagates if not."""
        with self.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        return True

    # plans -----------------------------------------------------------------------------

    def _record(self, plan: NewPlan, token: str, run_id: str | None, now: datetime) -> PlanRecord:
        r = plan.result
        return PlanRecord(
            id=uuid.uuid4().hex,
            created_at=now,
            kind=plan.kind,
            name=plan.name,
            scenario_run_id=run_id,
            status=str(r.get("status")) if r.get("status") is not None else None,
            currency=str(r.get("currency"))[:16] if r.get("currency") is not None else None,
            result_type=str(r.get("result_type"))[:64] if r.get("result_type") else None,
            budget=_num(r.get("budget")),
            total_spend=_num(r.get("total_spend")),
            expected_results=_num(r.get("expected_results")),
            inputs=plan.inputs_json if plan.inputs_json is not None else plan.inputs,
            result=plan.result_json if plan.result_json is not None else plan.result,
            token_hash=hash_token(token),
        )

    def add_plan(self, plan: NewPlan) -> tuple[StoredPlan, str]:
        """Persist ``plan``; returns it with its download token (shown only now)."""
        token = new_token()
        rec = self._record(plan, token, None, datetime.now(UTC))
        with self._writing() as session:
            session.add(rec)
        return _stored(rec, plan), token

    def get_plan(self, plan_id: str, *, with_inputs: bool = False) -> StoredPlan | None:
        """Return the plan, or None; its (large) inputs are read only when asked for."""
        q = select(PlanRecord).where(PlanRecord.id == plan_id)
        if not with_inputs:
            q = q.options(defer(PlanRecord.inputs))
        with self._sessions() as session:
            rec = session.scalars(q).first()
            return _stored(rec) if rec is not None else None

    def list_plans(
        self, *, limit: int, cursor: int | None = None, scenario_run_id: str | None = None
    ) -> tuple[list[dict], str | None]:
        """Return summaries, newest first, and the cursor of the next page (None at the end).

        Reads only the summary columns, never the (large) inputs and results.
        """
        cols = (
            PlanRecord.seq,
            PlanRecord.id,
            PlanRecord.created_at,
            PlanRecord.kind,
            PlanRecord.name,
            PlanRecord.scenario_run_id,
            PlanRecord.status,
            PlanRecord.currency,
            PlanRecord.result_type,
            PlanRecord.budget,
            PlanRecord.total_spend,
            PlanRecord.expected_results,
        )
        q = select(*cols).order_by(PlanRecord.seq.desc()).limit(limit + 1)
        if cursor is not None:
            q = q.where(PlanRecord.seq < cursor)
        if scenario_run_id is not None:
            q = q.where(PlanRecord.scenario_run_id == scenario_run_id)
        with self._sessions() as session:
            rows = session.execute(q).all()
        more = len(rows) > limit
        rows = rows[:limit]
        nxt = _encode_cursor(rows[-1].seq) if more and rows else None
        items = []
        for r in rows:
            d = r._asdict()
            d.pop("seq")
            d["created_at"] = iso(d["created_at"])
            items.append(d)
        return items, nxt

    def count_plans(self) -> int:
        """Return the number of saved plans."""
        from sqlalchemy import func

        with self._sessions() as session:
            return int(session.scalar(select(func.count()).select_from(PlanRecord)) or 0)

    def delete_plan(self, plan_id: str) -> bool:
        """Delete a plan; False if there was none with this id."""
        with self._writing() as session:
            res = session.execute(delete(PlanRecord).where(PlanRecord.id == plan_id))
            return bool(res.rowcount)

    def check_token(self, plan_id: str, token: str) -> bool | None:
        """Return whether ``token`` is the plan's download token; None if there is no such plan."""
        with self._sessions() as session:
            stored = session.scalar(select(PlanRecord.token_hash).where(PlanRecord.id == plan_id))
        if stored is None:
            return None
        return hmac.compare_digest(stored.encode(), hash_token(token).encode())

    def rotate_token(self, plan_id: str) -> str | None:
        """Give the plan a new download token (the old one stops working)."""
        token = new_token()
        with self._writing() as session:
            res = session.execute(
                update(PlanRecord)
                .where(PlanRecord.id == plan_id)
                .values(token_hash=hash_token(token))
            )
            return token if res.rowcount else None

    # scenario runs ---------------------------------------------------------------------

    def add_scenario_run(
        self, *, name: str, document: dict, summary: dict, plans: list[NewPlan]
    ) -> tuple[dict, list[tuple[StoredPlan, str]]]:
        """Persist a scenario run and its plans in one transaction."""
        now = datetime.now(UTC)
        run = ScenarioRunRecord(
            id=uuid.uuid4().hex, created_at=now, name=name[:200], document=document, summary=summary
        )
        made = [(p, new_token()) for p in plans]
        recs = [self._record(p, tok, run.id, now) for p, tok in made]
        with self._writing() as session:
            session.add(run)
            session.flush()
            session.add_all(recs)
        out = [(_stored(rec, p), tok) for rec, (p, tok) in zip(recs, made, strict=True)]
        return self._run_dict(run, [(r.name, r.id) for r in recs]), out

    def get_scenario_run(self, run_id: str) -> dict | None:
        """Return a scenario run with its (variant name, plan id) pairs, or None."""
        with self._sessions() as session:
            run = session.scalars(
                select(ScenarioRunRecord).where(ScenarioRunRecord.id == run_id)
            ).first()
            if run is None:
                return None
            rows = session.execute(
                select(PlanRecord.name, PlanRecord.id)
                .where(PlanRecord.scenario_run_id == run_id)
                .order_by(PlanRecord.seq)
            ).all()
            return self._run_dict(run, [(name, pid) for name, pid in rows])

    @staticmethod
    def _run_dict(run: ScenarioRunRecord, plans: list[tuple[str | None, str]]) -> dict:
        return {
            "id": run.id,
            "created_at": iso(run.created_at),
            "name": run.name,
            "summary": run.summary,
            "plans": plans,
        }
