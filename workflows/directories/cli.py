"""The ``yunshang directory`` command group the flow plug-ins share, and how its commands fail.

Each plug-in adds its commands to the same groups (``directory import grids``, ``directory import
objects``…): ``directory_groups`` answers the groups a plug-in registered before, or creates them, so
the order in which the plug-ins are loaded does not matter.
"""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import typer

from workflows.cli.common import fail, unreachable
from workflows.directories.problems import DirectoryInvalid
from workflows.errors import YunshangError
from workflows.messaging.retry import is_transient
from workflows.runtime import Runtime

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


def fail_on(exc: Exception, rt: Runtime) -> NoReturn:
    """An engine error or an unreachable database as one line (exit 1); anything else propagates."""
    if isinstance(exc, YunshangError):
        fail(str(exc))
    if is_transient(exc):
        fail(unreachable(exc, rt.settings))
    raise exc
