"""Stored rule versions: every accepted rule set, the one in force, and reloads from the rules folder.

A version is a snapshot of the rule files (their text, as read; versions stored before calendar.yaml
existed lack it), its sha256 content hash, an author and a note. Its identity everywhere —
``rules_version`` on every instance, ``yunshang rules versions``, ``rules diff`` — is the first 16 hex
characters of that hash. Exactly one version is ``active``; every process follows it
(``workflows.ruleset.adapter``).

A reload snapshots the folder's bytes once, lints the snapshot (not the folder, which an editor may
be rewriting), checks it against the flows the engine runs (``workflows.ruleset.contracts``) and
either stores and activates it, or records it as rejected with its report and leaves the active
version alone. A rule set is never half-loaded.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from rules import LintReport, Loaded, RuleSet, RulesInvalid, format_report
from state_machines.base import Flow
from workflows.errors import BadInput
from workflows.ruleset.contracts import lint_files, lint_with_contract, snapshot
from workflows.store.db import Database
from workflows.store.models import RuleVersion
from workflows.time.clock import Clock

log = logging.getLogger("yunshang.rules")

VERSION_LENGTH = 16
LINT_REPORT = "_lint_report"
"""Key, in ``files`` of a rejected candidate, of its lint report (rule file names never start with _)."""
_ADVISORY_LOCK = 0x79756E7275_6C6573  # serialises activations on PostgreSQL
_HEX = re.compile(r"^[0-9a-f]{4,64}$")

Status = Literal["active", "superseded", "stored", "rejected"]
Outcome = Literal["activated", "unchanged", "rejected"]


class RuleVersionNotFound(BadInput):
    code = "rule_version_not_found"
    http_status = 404


def version_of(content_hash: str) -> str:
    """The version id of a content hash: its first 16 hex characters."""
    return content_hash[:VERSION_LENGTH]


@dataclass(frozen=True)
class StoredVersion:
    id: int
    content_hash: str
    files: dict[str, str]
    note: str
    author: str
    created_at: datetime
    activated_at: datetime | None
    active: bool

    @property
    def version(self) -> str:
        return version_of(self.content_hash)

    @property
    def status(self) -> Status:
        if LINT_REPORT in self.files:
            return "rejected"
        if self.active:
            return "active"
        return "superseded" if self.activated_at is not None else "stored"

    @property
    def rule_files(self) -> dict[str, str]:
        return {name: body for name, body in self.files.items() if name != LINT_REPORT}

    @property
    def lint_report(self) -> str | None:
        return self.files.get(LINT_REPORT)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "version": self.version,
            "content_hash": self.content_hash,
            "status": self.status,
            "note": self.note,
            "author": self.author,
            "created_at": self.created_at.isoformat(),
            "activated_at": self.activated_at.isoformat() if self.activated_at else None,
            "files": sorted(self.rule_files),
            "lint_report": self.lint_report,
        }


@dataclass(frozen=True)
class ReloadResult:
    """What a reload did. ``ruleset`` is the folder's rule set when it is (now) the active one."""

    outcome: Outcome
    version: str
    report: LintReport
    active: StoredVersion | None
    ruleset: RuleSet | None = None

    def describe(self) -> str:
        if self.outcome == "rejected":
            kept = f"version {self.active.version} stays active" if self.active else "no version is active"
            return (
                f"rules in {self.report.directory} rejected ({self.report.summary()}); {kept}\n"
                + format_report(self.report, summary=False)
            )
        verb = "activated" if self.outcome == "activated" else "already active"
        warnings = f" ({self.report.summary()})" if self.report.warnings else ""
        return f"rules version {self.version} {verb}{warnings}"


def load_files(files: Mapping[str, str], label: str | Path = "stored rules") -> RuleSet:
    """The rule set of stored file texts; raises ``rules.RulesInvalid`` when they do not validate."""
    loaded = lint_files(files, label)
    if loaded.ruleset is None:
        raise RulesInvalid(loaded.report)
    return loaded.ruleset


class RuleVersions:
    """The ``rule_versions`` table: store, activate, find, and reload from a folder."""

    def __init__(self, db: Database, clock: Clock, flows: Mapping[str, Flow]) -> None:
        self.db = db
        self.clock = clock
        #: the flows the engine runs: a reload refuses rules that break the contract with them
        self.flows = flows

    def lint(self, files: Mapping[str, bytes | str], label: str | Path = "stored rules") -> Loaded:
        """The linter and the contract with the flows: the rule set only if neither found an error."""
        return lint_with_contract(files, label, self.flows)

    # ------------------------------------------------------------- reading
    def active_ref(self) -> tuple[int, str] | None:
        """(id, content hash) of the active version: the cheap query every process polls."""
        with self.db.read() as session:
            row = session.execute(
                select(RuleVersion.id, RuleVersion.content_hash)
                .where(RuleVersion.active.is_(True))
                .order_by(RuleVersion.activated_at.desc(), RuleVersion.id.desc())
                .limit(1)
            ).first()
        return (int(row[0]), str(row[1])) if row is not None else None

    def active(self) -> StoredVersion | None:
        ref = self.active_ref()
        return self.get(ref[0]) if ref is not None else None

    def get(self, version_id: int) -> StoredVersion | None:
        with self.db.read() as session:
            row = session.get(RuleVersion, version_id)
            return _stored(row) if row is not None else None

    def all(self) -> list[StoredVersion]:
        with self.db.read() as session:
            rows = session.execute(select(RuleVersion).order_by(RuleVersion.id)).scalars()
            return [_stored(row) for row in rows]

    def find(self, ref: str) -> StoredVersion:
        """A version by id (``3``), hash prefix (``91a563a4``, ≥ 4 hex characters) or ``active``."""
        ref = ref.strip().lower()
        if ref == "active":
            found = self.active()
            if found is None:
                raise RuleVersionNotFound("no rule version is active yet: run `yunshang rules reload`")
            return found
        if ref.isdigit() and len(ref) < 10 and (by_id := self.get(int(ref))) is not None:
            return by_id
        if not _HEX.match(ref):
            raise RuleVersionNotFound(
                f"{ref!r} is not a rule version: give an id or a hash prefix from `yunshang rules versions`"
            )
        with self.db.read() as session:
            rows = session.execute(
                select(RuleVersion).where(RuleVersion.content_hash.startswith(ref)).order_by(RuleVersion.id)
            ).scalars()
            matches = [_stored(row) for row in rows]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise RuleVersionNotFound(f"no stored rule version has id or hash prefix {ref!r}")
        ids = ", ".join(f"#{m.id} {m.version}" for m in matches)
        raise RuleVersionNotFound(f"hash prefix {ref!r} is ambiguous ({ids}): give more characters")

    # ------------------------------------------------------------- writing
    def reload(self, directory: str | Path, *, note: str = "", author: str = "") -> ReloadResult:
        """Lint a snapshot of ``directory`` with the contract; store and activate it, or record why not."""
        files = snapshot(directory)
        loaded = self.lint(files, directory)
        report = loaded.report
        texts = {name: body.decode("utf-8", errors="replace") for name, body in files.items()}
        version = version_of(report.content_hash)
        if loaded.ruleset is None:
            record = {**texts, LINT_REPORT: format_report(report)}
            self._record_rejection(report.content_hash, record, note, author, report)
            log.error("rules reload rejected:\n%s", format_report(report))
            return ReloadResult("rejected", version, report, self.active())
        changed, active = self.store_and_activate(report.content_hash, texts, note=note, author=author)
        if changed:
            log.info("rules version %s from %s activated (%s)", version, directory, report.summary())
        return ReloadResult("activated" if changed else "unchanged", version, report, active, loaded.ruleset)

    def store_and_activate(
        self, content_hash: str, files: Mapping[str, str], *, note: str = "", author: str = ""
    ) -> tuple[bool, StoredVersion]:
        """Store an accepted rule set (once per hash) and make it the active one, in one transaction.
        Returns (whether the active version changed, the stored version)."""
        now = self.clock.now()
        with self.db.transaction() as session:
            self._serialise(session)
            row = self._insert(session, content_hash, dict(files), note, author, now)
            if LINT_REPORT in row.files:  # rejected by an older lint, accepted now
                row.files, row.note, row.author, row.created_at = dict(files), note, author, now
            if row.active:
                return False, _stored(row)
            session.execute(update(RuleVersion).where(RuleVersion.active.is_(True)).values(active=False))
            row.active, row.activated_at = True, now
            session.flush()
            return True, _stored(row)

    def _record_rejection(
        self, content_hash: str, files: dict[str, str], note: str, author: str, report: LintReport
    ) -> None:
        summary = f"rejected: {report.summary()}" + (f"; {note}" if note else "")
        now = self.clock.now()
        with self.db.transaction() as session:
            row = self._insert(session, content_hash, files, summary, author, now)
            if LINT_REPORT in row.files:  # seen before: refresh when and what
                row.files, row.note, row.author, row.created_at = files, summary, author, now

    def _insert(
        self,
        session: Session,
        content_hash: str,
        files: dict[str, str],
        note: str,
        author: str,
        now: datetime,
    ) -> RuleVersion:
        dialect = postgresql if self.db.is_postgres else sqlite
        values = dict(
            content_hash=content_hash, files=files, note=note, author=author, created_at=now, active=False
        )
        stmt = (
            dialect.insert(RuleVersion)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["content_hash"])
        )
        session.execute(stmt)
        query = select(RuleVersion).where(RuleVersion.content_hash == content_hash)
        if self.db.is_postgres:
            query = query.with_for_update()
        return session.execute(query).scalar_one()

    def _serialise(self, session: Session) -> None:
        """One activation at a time (SQLite's ``BEGIN IMMEDIATE`` already serialises writers)."""
        if self.db.is_postgres:
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK})


def _stored(row: RuleVersion) -> StoredVersion:
    return StoredVersion(
        id=row.id,
        content_hash=row.content_hash,
        files=dict(row.files),
        note=row.note,
        author=row.author,
        created_at=row.created_at,
        activated_at=row.activated_at,
        active=row.active,
    )
