"""Persistence of plans and scenario runs (SQLAlchemy 2 ORM).

Any SQLAlchemy URL works; the default is a SQLite file, opened in WAL mode with
``synchronous=FULL`` (a plan the server answered 201 for survives a power cut, not only a
crash) and a busy timeout, so that concurrent requests (threads of one server, or several
server processes on one file) wait for each other instead of failing. Within one process, writes to SQLite go
through a lock as well, and every write transaction starts with its write, so a reader is
never upgraded into a writer (the cause of SQLite's immediate "database is locked").

Each plan carries a read-only download token. Only its SHA-256 is stored; the token itself is
shown once, in the links of the response that created the plan (or rotated the token).

Plans and scenario runs belong to a workspace (that of the key that made them); every read,
list, delete and token rotation names the workspace, so another workspace's ids are never
found. Named plans (:class:`NamedPlanRecord`, :class:`NamedVersionRecord`) give a workspace's plans
a name with versions, and a feed token (its SHA-256 kept) for the spreadsheet feeds of the
current version. Idempotency keys (:class:`IdempotencyRecord`) keep the first answer to a POST for
:data:`IDEMPOTENCY_TTL_S` seconds.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic_core import to_json
from sqlalchemy import (
    JSON,
    ColumnElement,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    inspect,
    select,
    update,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, defer, mapped_column, sessionmaker
from sqlalchemy.pool import StaticPool

ID_LENGTH = 32  # uuid4().hex
DEFAULT_WORKSPACE = "default"
#: how long an Idempotency-Key and the answer to its first request are kept (24 h)
IDEMPOTENCY_TTL_S = 24 * 3600


class Base(DeclarativeBase):
    """Declarative base of the service's tables."""


class ScenarioRunRecord(Base):
    """A saved scenario run: its document and summary (its plans point to it)."""

    __tablename__ = "scenario_runs"
    __table_args__ = {"sqlite_autoincrement": True}

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(ID_LENGTH), unique=True, index=True)
    workspace: Mapped[str] = mapped_column(
        String(64), default=DEFAULT_WORKSPACE, server_default=DEFAULT_WORKSPACE, index=True
    )
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
    workspace: Mapped[str] = mapped_column(
        String(64), default=DEFAULT_WORKSPACE, server_default=DEFAULT_WORKSPACE, index=True
    )
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


class NamedPlanRecord(Base):
    """A named plan of a workspace: its latest version and its feed token's hash.

    Its versions (:class:`NamedVersionRecord`) point to saved plans; the feeds serve the
    plan of ``current_version``, the latest. Only the SHA-256 of the feed token is kept.
    """

    __tablename__ = "named_plans"
    __table_args__ = (UniqueConstraint("workspace", "name"), {"sqlite_autoincrement": True})

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    current_version: Mapped[int] = mapped_column(Integer)
    token_hash: Mapped[str] = mapped_column(String(64))


class NamedVersionRecord(Base):
    """One version of a named plan: the plan it is, when and how it was made."""

    __tablename__ = "named_plan_versions"
    __table_args__ = (UniqueConstraint("named_plan_seq", "version"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    named_plan_seq: Mapped[int] = mapped_column(
        Integer, ForeignKey("named_plans.seq", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    plan_id: Mapped[str] = mapped_column(String(ID_LENGTH), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(16))  # plan | replan | scenario_run


class IdempotencyRecord(Base):
    """An Idempotency-Key of a workspace: its request's fingerprint and, once done, the answer.

    Only the SHA-256 of the key is kept. While the first request runs, ``lease`` and
    ``locked_until`` hold it (a server that died leaves a lease that expires); ``status_code``
    is set when it is done. The download tokens of the answer are not stored in clear:
    ``secrets`` holds them masked by a pad derived from the key itself (:func:`seal_tokens`).
    """

    __tablename__ = "idempotency_keys"

    workspace: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float, index=True)
    lease: Mapped[str | None] = mapped_column(String(32), nullable=True)
    locked_until: Mapped[float | None] = mapped_column(Float, nullable=True)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    headers: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    body: Mapped[str | None] = mapped_column(Text, nullable=True)
    secrets: Mapped[list | None] = mapped_column(JSON, nullable=True)


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
    workspace: str = DEFAULT_WORKSPACE


@dataclass(frozen=True, slots=True)
class NamedVersion:
    """One version of a named plan, as read back."""

    version: int
    plan_id: str
    created_at: datetime
    source: str


@dataclass(frozen=True, slots=True)
class NamedPlan:
    """A named plan as read back: its versions, oldest first; the last is the current one."""

    name: str
    workspace: str
    created_at: datetime
    versions: tuple[NamedVersion, ...]

    @property
    def current(self) -> NamedVersion:
        """Return the current (latest) version."""
        return self.versions[-1]


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


def _named(workspace: str, name: str) -> tuple[ColumnElement[bool], ...]:
    """Return the conditions that select the named plan ``name`` of ``workspace``."""
    return (NamedPlanRecord.workspace == workspace, NamedPlanRecord.name == name)


def _current_plan_is(plan_id: str) -> ColumnElement[bool]:
    """Return the condition: a named plan's current version is the plan ``plan_id``."""
    return (
        select(NamedVersionRecord.seq)
        .where(
            NamedVersionRecord.named_plan_seq == NamedPlanRecord.seq,
            NamedVersionRecord.version == NamedPlanRecord.current_version,
            NamedVersionRecord.plan_id == plan_id,
        )
        .exists()
    )


def _next_version(session: Session, where: tuple[ColumnElement[bool], ...]) -> bool:
    """Count the next version of the named plan ``where`` selects; False if none matched."""
    res = session.execute(
        update(NamedPlanRecord)
        .where(*where)
        .values(current_version=NamedPlanRecord.current_version + 1)
    )
    return bool(res.rowcount)


def _record_version(
    session: Session, where: tuple[ColumnElement[bool], ...], plan_id: str, source: str
) -> None:
    """Record ``plan_id`` as the current version (just counted) of the named plan ``where``."""
    seq, version = session.execute(
        select(NamedPlanRecord.seq, NamedPlanRecord.current_version).where(*where)
    ).one()
    session.add(
        NamedVersionRecord(
            named_plan_seq=seq,
            version=version,
            plan_id=plan_id,
            created_at=datetime.now(UTC),
            source=source,
        )
    )


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
        workspace=rec.workspace,
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
            cur.execute("PRAGMA synchronous=FULL")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    return engine


_TOKEN_IN_TEXT = re.compile(r"token=([A-Za-z0-9_-]{43})")  # new_token(): 43 characters
_SEALED = re.compile("token=\x01([0-9]+)\x01")  # no JSON text holds \x01 (it is escaped)


def _masked(raw: bytes, key: str, workspace: str, i: int) -> bytes:
    """Return ``raw`` XOR-ed with the ``i``-th pad of ``key`` (HMAC-SHA512); its own inverse."""
    msg = f"adplan-idempotency\0{workspace}\0{i}".encode()
    pad = hmac.new(key.encode("utf-8", "surrogatepass"), msg, hashlib.sha512).digest()
    return bytes(a ^ b for a, b in zip(raw, pad[: len(raw)], strict=True))


def seal_tokens(text: str, key: str, workspace: str) -> tuple[str, list[str]]:
    """Return ``text`` with its download tokens replaced by placeholders, and them masked.

    Each token is XOR-ed with a pad derived (HMAC-SHA512) from the Idempotency-Key, which is
    stored only as its SHA-256, so the database never holds a usable token in clear.
    :func:`open_tokens` undoes it exactly.
    """
    found: dict[str, int] = {}

    def _placeholder(m: re.Match) -> str:
        return f"token=\x01{found.setdefault(m.group(1), len(found))}\x01"

    sealed = _TOKEN_IN_TEXT.sub(_placeholder, text)
    secrets = [_masked(token.encode(), key, workspace, i).hex() for token, i in found.items()]
    return sealed, secrets


def open_tokens(text: str, secrets: list[str], key: str, workspace: str) -> str:
    """Return ``text`` as it was before :func:`seal_tokens` (same key and workspace)."""
    tokens = [
        _masked(bytes.fromhex(h), key, workspace, i).decode("latin-1")
        for i, h in enumerate(secrets)
    ]
    return _SEALED.sub(lambda m: "token=" + tokens[int(m.group(1))], text)


@dataclass(frozen=True, slots=True)
class Replay:
    """The answer to the first request of an Idempotency-Key (its tokens sealed)."""

    status_code: int
    headers: dict
    body: str
    secrets: list[str]


@dataclass(frozen=True, slots=True)
class Begun:
    """What :meth:`PlanStore.begin_idempotent` found.

    ``state`` is ``new`` (run the request, holding ``lease``), ``replay`` (answer ``replay``),
    ``conflict`` (the key was used for another request) or ``running`` (its first request
    still runs; retry after ``retry_after`` seconds).
    """

    state: str
    lease: str | None = None
    replay: Replay | None = None
    retry_after: int = 1


def _add_workspace_columns(engine: Engine) -> None:
    """Give tables made before workspaces existed their ``workspace`` column ('default')."""
    for table in ("plans", "scenario_runs"):
        if "workspace" in {c["name"] for c in inspect(engine).get_columns(table)}:
            continue
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql(
                    f"ALTER TABLE {table} ADD COLUMN workspace VARCHAR(64) NOT NULL "
                    f"DEFAULT '{DEFAULT_WORKSPACE}'"
                )
                conn.exec_driver_sql(
                    f"CREATE INDEX IF NOT EXISTS ix_{table}_workspace ON {table} (workspace)"
                )
        except (OperationalError, ProgrammingError):  # another process added it first
            if "workspace" not in {c["name"] for c in inspect(engine).get_columns(table)}:
                raise


class PlanStore:
    """Plans, scenario runs and idempotency keys in one database."""

    def __init__(self, url: str, *, busy_timeout_ms: int = 30_000) -> None:
        self.engine = make_engine(url, busy_timeout_ms)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._write_lock = threading.Lock() if self.is_sqlite else None
        try:
            Base.metadata.create_all(self.engine)
        except (OperationalError, ProgrammingError):  # another process created them first
            Base.metadata.create_all(self.engine)
        _add_workspace_columns(self.engine)
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

    def _record(
        self, plan: NewPlan, token: str, run_id: str | None, now: datetime, workspace: str
    ) -> PlanRecord:
        r = plan.result
        return PlanRecord(
            id=uuid.uuid4().hex,
            workspace=workspace,
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

    def add_plan(
        self, plan: NewPlan, *, workspace: str = DEFAULT_WORKSPACE
    ) -> tuple[StoredPlan, str]:
        """Persist ``plan`` in ``workspace``; returns it with its download token (shown only now)."""
        token = new_token()
        rec = self._record(plan, token, None, datetime.now(UTC), workspace)
        with self._writing() as session:
            session.add(rec)
        return _stored(rec, plan), token

    def get_plan(
        self, plan_id: str, *, workspace: str | None, with_inputs: bool = False
    ) -> StoredPlan | None:
        """Return the plan if it is in ``workspace`` (None: any), or None.

        Its (large) inputs are read only when asked for.
        """
        q = select(PlanRecord).where(PlanRecord.id == plan_id)
        if workspace is not None:
            q = q.where(PlanRecord.workspace == workspace)
        if not with_inputs:
            q = q.options(defer(PlanRecord.inputs))
        with self._sessions() as session:
            rec = session.scalars(q).first()
            return _stored(rec) if rec is not None else None

    def list_plans(
        self,
        *,
        limit: int,
        cursor: int | None = None,
        scenario_run_id: str | None = None,
        workspace: str = DEFAULT_WORKSPACE,
    ) -> tuple[list[dict], str | None]:
        """Return a workspace's summaries, newest first, and the next page's cursor (None: end).

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
        q = (
            select(*cols)
            .where(PlanRecord.workspace == workspace)
            .order_by(PlanRecord.seq.desc())
            .limit(limit + 1)
        )
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
        """Return the number of saved plans (all workspaces)."""
        from sqlalchemy import func

        with self._sessions() as session:
            return int(session.scalar(select(func.count()).select_from(PlanRecord)) or 0)

    def delete_plan(self, plan_id: str, *, workspace: str = DEFAULT_WORKSPACE) -> bool:
        """Delete a plan of ``workspace``; False if it has none with this id."""
        with self._writing() as session:
            res = session.execute(
                delete(PlanRecord).where(
                    PlanRecord.id == plan_id, PlanRecord.workspace == workspace
                )
            )
            return bool(res.rowcount)

    def check_token(self, plan_id: str, token: str) -> bool | None:
        """Return whether ``token`` is the plan's download token; None if there is no such plan."""
        with self._sessions() as session:
            stored = session.scalar(select(PlanRecord.token_hash).where(PlanRecord.id == plan_id))
        if stored is None:
            return None
        return hmac.compare_digest(stored.encode(), hash_token(token).encode())

    def rotate_token(self, plan_id: str, *, workspace: str = DEFAULT_WORKSPACE) -> str | None:
        """Give a plan of ``workspace`` a new download token (the old one stops working)."""
        token = new_token()
        with self._writing() as session:
            res = session.execute(
                update(PlanRecord)
                .where(PlanRecord.id == plan_id, PlanRecord.workspace == workspace)
                .values(token_hash=hash_token(token))
            )
            return token if res.rowcount else None

    # scenario runs ---------------------------------------------------------------------

    def add_scenario_run(
        self,
        *,
        name: str,
        document: dict,
        summary: dict,
        plans: list[NewPlan],
        workspace: str = DEFAULT_WORKSPACE,
    ) -> tuple[dict, list[tuple[StoredPlan, str]]]:
        """Persist a scenario run and its plans in one transaction, in ``workspace``."""
        now = datetime.now(UTC)
        run = ScenarioRunRecord(
            id=uuid.uuid4().hex,
            workspace=workspace,
            created_at=now,
            name=name[:200],
            document=document,
            summary=summary,
        )
        made = [(p, new_token()) for p in plans]
        recs = [self._record(p, tok, run.id, now, workspace) for p, tok in made]
        with self._writing() as session:
            session.add(run)
            session.flush()
            session.add_all(recs)
        out = [(_stored(rec, p), tok) for rec, (p, tok) in zip(recs, made, strict=True)]
        return self._run_dict(run, [(r.name, r.id) for r in recs]), out

    def get_scenario_run(self, run_id: str, *, workspace: str = DEFAULT_WORKSPACE) -> dict | None:
        """Return a run of ``workspace`` with its (variant name, plan id) pairs, or None."""
        with self._sessions() as session:
            run = session.scalars(
                select(ScenarioRunRecord).where(
                    ScenarioRunRecord.id == run_id, ScenarioRunRecord.workspace == workspace
                )
            ).first()
            if run is None:
                return None
            rows = session.execute(
                select(PlanRecord.name, PlanRecord.id)
                .where(PlanRecord.scenario_run_id == run_id, PlanRecord.workspace == workspace)
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

    # named plans -----------------------------------------------------------------------

    def add_version(
        self,
        name: str,
        plan_id: str,
        *,
        source: str,
        workspace: str = DEFAULT_WORKSPACE,
        unless_current: bool = False,
    ) -> tuple[NamedPlan, str | None]:
        """Make ``plan_id`` the next (current) version of ``name`` in ``workspace``.

        A new name is made with version 1 and a feed token, returned (shown only now; None
        for an existing name). ``unless_current``: no new version when the plan is the
        current one already (a repeated PUT).
        """
        if unless_current:
            found = self.get_named(name, workspace=workspace)
            if found is not None and found.current.plan_id == plan_id:
                return found, None
        for _ in range(3):
            try:
                token = self._add_version(name, plan_id, source, workspace)
                break
            except IntegrityError:  # the same new name made at the same moment: add to it
                continue
        else:  # pragma: no cover - three races in a row
            raise RuntimeError(f"could not add a version to the named plan {name!r}")
        named = self.get_named(name, workspace=workspace)
        assert named is not None  # made above
        return named, token

    def _add_version(self, name: str, plan_id: str, source: str, workspace: str) -> str | None:
        token = None
        where = _named(workspace, name)
        with self._writing() as session:  # the write first: it locks the row (or the file)
            if not _next_version(session, where):
                token = new_token()
                session.add(
                    NamedPlanRecord(
                        workspace=workspace,
                        name=name,
                        created_at=datetime.now(UTC),
                        current_version=1,
                        token_hash=hash_token(token),
                    )
                )
                session.flush()
            _record_version(session, where, plan_id, source)
        return token

    def advance_current(
        self, replaced: str, plan_id: str, *, source: str, workspace: str
    ) -> list[NamedPlan]:
        """Make ``plan_id`` the next version of the names whose current version is ``replaced``.

        Only the names of ``workspace`` whose CURRENT version is the plan ``replaced`` (a
        re-plan of an older version leaves a name alone); each is checked and advanced in
        one write, so a name given another plan meanwhile is left as it is. Returns the
        named plans advanced, by name.
        """
        advanced = []
        for name in self.names_of_plan(replaced, workspace=workspace):
            where = _named(workspace, name)
            with self._writing() as session:
                if not _next_version(session, (*where, _current_plan_is(replaced))):
                    continue
                _record_version(session, where, plan_id, source)
            named = self.get_named(name, workspace=workspace)
            if named is not None:
                advanced.append(named)
        return advanced

    def get_named(self, name: str, *, workspace: str) -> NamedPlan | None:
        """Return the named plan ``name`` of ``workspace`` with its versions, or None."""
        with self._sessions() as session:
            rec = session.scalars(
                select(NamedPlanRecord).where(
                    NamedPlanRecord.workspace == workspace, NamedPlanRecord.name == name
                )
            ).first()
            if rec is None:
                return None
            rows = session.scalars(
                select(NamedVersionRecord)
                .where(NamedVersionRecord.named_plan_seq == rec.seq)
                .order_by(NamedVersionRecord.version)
            ).all()
            versions = tuple(
                NamedVersion(v.version, v.plan_id, v.created_at, v.source) for v in rows
            )
            return NamedPlan(rec.name, rec.workspace, rec.created_at, versions)

    def feed_token_workspace(self, name: str, token: str) -> str | None:
        """Return the workspace whose named plan ``name`` has this feed token, or None.

        None both when no workspace has the name and when the token is not its own (or was
        revoked): a token's holder learns nothing of the names it does not grant.
        """
        given = hash_token(token).encode()
        with self._sessions() as session:
            rows = session.execute(
                select(NamedPlanRecord.workspace, NamedPlanRecord.token_hash).where(
                    NamedPlanRecord.name == name
                )
            ).all()
        found = None
        for workspace, stored in rows:  # every row compared: the time does not say which
            if hmac.compare_digest(stored.encode(), given):
                found = workspace
        return found

    def rotate_feed_token(self, name: str, *, workspace: str) -> str | None:
        """Give a named plan of ``workspace`` a new feed token (the old one stops working)."""
        token = new_token()
        with self._writing() as session:
            res = session.execute(
                update(NamedPlanRecord)
                .where(NamedPlanRecord.workspace == workspace, NamedPlanRecord.name == name)
                .values(token_hash=hash_token(token))
            )
            return token if res.rowcount else None

    def names_of_plan(self, plan_id: str, *, workspace: str) -> list[str]:
        """Return the named plans of ``workspace`` whose current version is ``plan_id``."""
        with self._sessions() as session:
            rows = session.execute(
                select(NamedPlanRecord.name)
                .where(NamedPlanRecord.workspace == workspace, _current_plan_is(plan_id))
                .order_by(NamedPlanRecord.name)
            ).all()
        return [r[0] for r in rows]

    # idempotency keys ------------------------------------------------------------------

    def begin_idempotent(
        self, workspace: str, key: str, fingerprint: str, *, lease_s: float
    ) -> Begun:
        """Claim an Idempotency-Key of ``workspace`` for a request, or say why not.

        A new key (or an expired one, or one whose first request died and let its lease run
        out) is claimed for ``lease_s`` seconds: state ``new``. Otherwise the stored answer
        (``replay``), a ``conflict`` (another request used the key) or ``running``.
        """
        for _ in range(3):
            try:
                return self._begin(workspace, hash_token(key), fingerprint, lease_s)
            except IntegrityError:  # the same key claimed at the same moment: read it again
                continue
        return Begun("running")

    def _begin(self, workspace: str, key_hash: str, fingerprint: str, lease_s: float) -> Begun:
        now = time.time()
        lease = uuid.uuid4().hex
        with self._writing() as session:
            session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= now))
            rec = session.get(IdempotencyRecord, (workspace, key_hash))
            if rec is None:
                session.add(
                    IdempotencyRecord(
                        workspace=workspace,
                        key_hash=key_hash,
                        fingerprint=fingerprint,
                        created_at=now,
                        expires_at=now + IDEMPOTENCY_TTL_S,
                        lease=lease,
                        locked_until=now + lease_s,
                    )
                )
                session.flush()
                return Begun("new", lease=lease)
            return self._existing(session, rec, fingerprint, now, lease, lease_s)

    @staticmethod
    def _existing(
        session: Session,
        rec: IdempotencyRecord,
        fingerprint: str,
        now: float,
        lease: str,
        lease_s: float,
    ) -> Begun:
        if not hmac.compare_digest(rec.fingerprint, fingerprint):
            return Begun("conflict")
        if rec.status_code is not None:
            answer = Replay(
                rec.status_code, dict(rec.headers or {}), rec.body or "", list(rec.secrets or [])
            )
            return Begun("replay", replay=answer)
        if rec.locked_until is not None and rec.locked_until > now:
            return Begun("running", retry_after=max(1, min(5, int(rec.locked_until - now))))
        taken = session.execute(  # the first request died: take its key over
            update(IdempotencyRecord)
            .where(
                IdempotencyRecord.workspace == rec.workspace,
                IdempotencyRecord.key_hash == rec.key_hash,
                IdempotencyRecord.lease == rec.lease,
                IdempotencyRecord.status_code.is_(None),
            )
            .values(lease=lease, locked_until=now + lease_s)
        )
        return Begun("new", lease=lease) if taken.rowcount else Begun("running")

    def finish_idempotent(self, workspace: str, key: str, lease: str, answer: Replay) -> bool:
        """Store the answer to a key's first request (if the key is still held by ``lease``)."""
        with self._writing() as session:
            res = session.execute(
                update(IdempotencyRecord)
                .where(
                    IdempotencyRecord.workspace == workspace,
                    IdempotencyRecord.key_hash == hash_token(key),
                    IdempotencyRecord.lease == lease,
                )
                .values(
                    status_code=answer.status_code,
                    headers=answer.headers,
                    body=answer.body,
                    secrets=answer.secrets,
                    lease=None,
                    locked_until=None,
                )
            )
            return bool(res.rowcount)

    def release_idempotent(self, workspace: str, key: str, lease: str) -> None:
        """Forget a key whose request failed, so that a retry runs it again."""
        with self._writing() as session:
            session.execute(
                delete(IdempotencyRecord).where(
                    IdempotencyRecord.workspace == workspace,
                    IdempotencyRecord.key_hash == hash_token(key),
                    IdempotencyRecord.lease == lease,
                    IdempotencyRecord.status_code.is_(None),
                )
            )
