"""The engine's view of the rules: deadlines by flow, state and timer, and keeping them current.

``RuleDeadlines`` is a validated rule set seen as a ``DeadlineSource``; its ``version`` (the first 16
hex characters of the content hash, as in ``rule_versions``) is recorded on every instance.

Hot reload: the runtime's ``RulesInForce`` is swapped whole, never mutated, so a transition (which
reads it once) sees one rule set or the other, never a mix. Every process runs a ``RulesFollower`` that polls
the database's active version and swaps in a fully built ``RuleDeadlines`` when it changed: workers
through the ``FollowRules`` middleware, schedulers through their ``RulesWatcher`` job, which also
reloads the rules folder when its content hash changes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from pathlib import Path

import dramatiq

from rules import RuleSet, RulesInvalid, content_hash, load_rules
from workflows.engine.deadlines import MissingDeadline, RulesInForce
from workflows.ruleset.versions import ReloadResult, RuleVersions, load_files, version_of
from workflows.time.calendar import WorkCalendar

log = logging.getLogger("yunshang.rules")

_swap = threading.Lock()
"""Orders the swaps of one process: each reads the database and installs what it read, in turn."""


class RuleDeadlines:
    """Deadlines from a validated rule set (``rules/deadlines.yaml``), counted on its calendar
    (``rules/calendar.yaml``, the built-in tables for the years it lacks)."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        self.calendar = WorkCalendar.from_rules(ruleset.calendar)

    @classmethod
    def load(cls, directory: Path) -> RuleDeadlines:
        """Load and validate the rule files; raises ``rules.RulesInvalid`` with the lint report."""
        return cls(load_rules(directory))

    @classmethod
    def from_files(cls, files: Mapping[str, str], label: str = "stored rules") -> RuleDeadlines:
        """From stored file texts (``rule_versions.files``); raises ``rules.RulesInvalid``."""
        return cls(load_files(files, label))

    @property
    def version(self) -> str | None:
        return version_of(self.ruleset.content_hash) or None

    def deadline(self, flow: str, state: str, timer: str) -> str:
        text = self.ruleset.deadline(flow, state, timer)
        if text is None:
            raise MissingDeadline(
                f"no deadline rule for {flow}.{state}.{timer}: add `{timer}: <duration>` under "
                f"flows.{flow}.{state} in deadlines.yaml"
            )
        return text


def startup_deadlines(versions: RuleVersions, directory: Path) -> RuleDeadlines:
    """At start-up the active stored version wins; with none yet, the folder is stored and activated.
    Raises ``rules.RulesInvalid`` when there is no active version and the folder does not lint or
    breaks the contract with the flows (``versions.flows``). An active version that breaks it is
    logged as an error: it stays in force until a reload replaces it."""
    active = versions.active()
    if active is not None:
        label = f"rule version {active.version}"
        broken = versions.lint(active.rule_files, label).report.errors
        if broken:  # activated before these flows ran: the engine runs on it, and says what to fix
            log.error(
                "the active %s breaks the contract with the flows this engine runs; fix the rules "
                "folder and run `yunshang rules reload`:\n%s",
                label,
                "\n".join(p.format(Path(label)) for p in broken),
            )
        return RuleDeadlines.from_files(active.rule_files, label)
    result = versions.reload(directory, note=f"initial rule set from {directory}", author="yunshang")
    if result.ruleset is None:
        raise RulesInvalid(result.report)
    return RuleDeadlines(result.ruleset)


class RulesFollower:
    """Keeps one process's rules in force on the database's active rule version."""

    def __init__(self, rules: RulesInForce, versions: RuleVersions, interval: float) -> None:
        self.rules = rules
        self.versions = versions
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sync(self) -> bool:
        """Install the active version if the engine runs another one; True when it swapped."""
        with _swap:
            ref = self.versions.active_ref()
            if ref is None or version_of(ref[1]) == self.rules.version:
                return False
            stored = self.versions.get(ref[0])
            if stored is None:  # pragma: no cover - deleted between the two reads
                return False
            fresh = RuleDeadlines.from_files(stored.rule_files, f"rule version {stored.version}")
            before = self.rules.install(fresh).version
        log.info("rules version %s now in force (was %s)", fresh.version, before)
        return True

    def reload(self, directory: Path, *, note: str = "", author: str = "") -> ReloadResult:
        """Reload the folder (``RuleVersions.reload``) and, if it is now active, install it here."""
        with _swap:
            result = self.versions.reload(directory, note=note, author=author)
            if result.ruleset is not None and self.rules.version != result.version:
                self.rules.install(RuleDeadlines(result.ruleset))
        return result

    def start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="yunshang-rules-follower", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.sync()
            except Exception:
                log.exception("following the active rule version failed; the current one stays in force")


class FollowRules(dramatiq.Middleware):
    """Runs a ``RulesFollower`` while this process's Dramatiq worker runs."""

    def __init__(self, follower: RulesFollower) -> None:
        self.follower = follower

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self.follower.start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self.follower.stop()


class RulesWatcher:
    """The scheduler's job: reload the folder when its content changes, then follow the database.

    A change is acted on once the folder has held still for one poll, so a file caught half-saved
    is not loaded. The first poll compares the folder with the active version, so edits made while
    nothing ran are picked up too. An invalid edit is logged with its lint report, recorded
    (``yunshang rules versions``) and not tried again until the folder changes.
    """

    def __init__(self, follower: RulesFollower, directory: Path) -> None:
        self.follower = follower
        self.directory = directory
        self.seen: str | None = None
        self.changing: str | None = None
        self.last: ReloadResult | None = None

    def poll(self) -> ReloadResult | None:
        result = None
        digest = content_hash(self.directory)
        if digest != self.seen and digest != self.changing:
            self.changing = digest  # changed since the last poll: wait until it holds still
        elif digest != self.seen:
            result = self.follower.reload(
                self.directory, note=f"hot reload of {self.directory}", author="yunshang (file watcher)"
            )
            self.seen, self.changing, self.last = result.report.content_hash, None, result
        self.follower.sync()
        return result
