"""The ``yunshang directory`` command group the flow plug-ins share, and how its commands fail.

Each plug-in adds its commands to the same groups (``directory import grids``, ``directory import
objects``…): ``directory_groups`` answers the groups a plug-in registered before, or creates them, so
the order in which the plug-ins are loaded does not matter.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import NoReturn, TypeVar

import typer
from sqlalchemy.orm import Session

from rules import RuleSet
from workflows.cli.common import fail, unreachable
from workflows.directories.problems import DirectoryInvalid
from workflows.errors import YunshangError
from workflows.messaging.retry import is_transient
from workflows.runtime import Runtime

D = TypeVar("D")
R = TypeVar("R")

DIRECTORY_HELP = "The directories the flows route by."
IMPORT_HELP = "Replace a directory from a file; a bad file changes nothing."


def subgroup(parent: typer.Typer, name: str, help_text: str) -> typer.Typer:
    """The sub-command group ``name`` of ``parent``: the one registered already, else a new one."""
    for info in parent.registered_groups:
        group = info.typer_instance
        if group is not None and name in (info.name, group.info.name):
            return group
    group = typer.Typer(help=help_text, no_args_is_help=True)
    parent.add_typer(group, name=name)
    return group


def directory_groups(app: typer.Typer) -> tuple[typer.Typer, typer.Typer]:
    """The ``directory`` group of the root ``app`` and its ``import`` group."""
    directory_app = subgroup(app, "directory", DIRECTORY_HELP)
    return directory_app, subgroup(directory_app, "import", IMPORT_HELP)


def fail_invalid(exc: DirectoryInvalid, file: Path, what: str) -> NoReturn:
    """Every problem of ``file`` on stderr, then ``error: N problems in FILE; WHAT was not changed``
    (exit 1)."""
    for problem in exc.problems:
        typer.echo(str(problem), err=True)
    count = len(exc.problems)
    fail(f"{count} problem{'s' * (count != 1)} in {file}; {what} was not changed")


def import_file(
    rt: Runtime,
    file: Path,
    what: str,
    parse: Callable[[RuleSet], D],
    replace: Callable[[Session, D, str, datetime], R],
) -> R:
    """One directory import: ``parse`` the file against the rules in force, ``replace`` the directory
    with it in one transaction, and close the runtime; a bad file prints every problem and changes
    nothing (exit 1), an engine error or an unreachable database is one line."""
    try:
        directory = parse(rt.rules.ruleset(f"directory import of {what}"))
        with rt.db.transaction() as session:
            return replace(session, directory, file.name, rt.clock.now())
    except DirectoryInvalid as exc:
        fail_invalid(exc, file, what)
    except Exception as exc:
        fail_on(exc, rt)
    finally:
        rt.close()


def fail_on(exc: Exception, rt: Runtime) -> NoReturn:
    """An engine error or an unreachable database as one line (exit 1); anything else propagates."""
    if isinstance(exc, YunshangError):
        fail(str(exc))
    if is_transient(exc):
        fail(unreachable(exc, rt.settings))
    raise exc
