"""The ``graviton`` command: a thin click group.

Each subcommand lives in ``graviton.commands.<module>`` and is imported only when it runs, so
``graviton audit`` does not pay for importing boto3 or the docker SDK.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from graviton import __version__
from graviton.errors import GravitonError, one_line
from graviton.interrupts import (
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    Terminated,
    sigterm_raises,
    terminated_line,
)

# subcommand name -> "module:attribute" under graviton.commands
SUBCOMMANDS: dict[str, str] = {
    "audit": "audit:audit",
    "shift": "shift:shift",
    "status": "shift:status",
    "rollback": "shift:rollback",
    "unlock": "shift:unlock",
    "build": "build:build",
    "verify": "build:verify",
    "gate": "gate:gate",
    "savings": "savings:savings",
    "validate": "validate:validate",
    "capacity": "capacity:capacity",
}

# what `graviton --help` says of each, in this order, without importing any of them
SUMMARIES: dict[str, str] = {
    "audit": "Will every pinned dependency install on linux/aarch64?",
    "build": "Build a multi-arch image with buildx, push it, prove it, smoke-run it.",
    "verify": "Prove an image in a registry has every platform.",
    "validate": "Run an image on arm64 under the Graviton generation's CPU model.",
    "capacity": "Create the Graviton twin of an x86 capacity provider; decommission x86.",
    "gate": "The audit, Dockerfile and image checks as one CI step.",
    "shift": "Move an ECS service to Graviton in alarm-gated steps.",
    "status": "Where a shift stands.",
    "rollback": "Roll a shift back to its last good step.",
    "unlock": "Release a shift's lease held by a controller that is gone.",
    "savings": "What the move saves, per capacity provider.",
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        ordered = [*SUMMARIES, *sorted(set(SUBCOMMANDS) - set(SUMMARIES))]
        return [name for name in ordered if self._spec_available(name)]

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list, once, from :data:`SUMMARIES` (no command module is imported)."""
        rows = [(name, SUMMARIES.get(name, "")) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Click's usage errors as one line, like every other error: ``graviton: error: ...``
        and exit 2 (click prints a usage block, a hint and the error on three lines)."""
        if kwargs.get("standalone_mode", True) is False:
            return super().main(*args, **kwargs)
        kwargs["standalone_mode"] = False
        try:
            with sigterm_raises():  # SIGTERM unwinds every command as Ctrl-C does (exit 143)
                code = super().main(*args, **kwargs)
        except click.UsageError as exc:
            where = f"{exc.ctx.info_name}: " if exc.ctx and exc.ctx.parent else ""
            click.echo(f"graviton: error: {where}{exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            click.echo(f"graviton: error: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo("graviton: interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        sys.exit(code if isinstance(code, int) else 0)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        spec = SUBCOMMANDS.get(cmd_name)
        if spec is None:
            return None
        module_name, attr = spec.split(":")
        try:
            module = importlib.import_module(f"graviton.commands.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"graviton.commands.{module_name}":
                return None
            raise
        command: click.Command = getattr(module, attr)
        return command

    @staticmethod
    def _spec_available(name: str) -> bool:
        module_name = SUBCOMMANDS[name].split(":")[0]
        here = os.path.join(os.path.dirname(__file__), "commands", f"{module_name}.py")
        return os.path.exists(here)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GravitonError as exc:
            click.echo(f"graviton: error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("graviton: interrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except Terminated as exc:
            click.echo(terminated_line(exc), err=True)
            ctx.exit(EXIT_TERMINATED)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:  # last resort: one line, never a traceback
            if os.environ.get("GRAVITON_DEBUG"):
                raise
            code = _exit_code_for(exc)
            message = one_line(f"{type(exc).__name__}: {exc}", None)  # no secret, one line
            click.echo(f"graviton: error: {message}", err=True)
            ctx.exit(code)


def _exit_code_for(exc: BaseException) -> int:
    """Unwrapped network errors from botocore/requests/docker mean "could not reach" (3)."""
    from graviton.unreachable import unreachable

    if unreachable(exc) or isinstance(exc, OSError):
        return 3
    return 70  # EX_SOFTWARE: a bug in graviton; GRAVITON_DEBUG=1 shows the traceback


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="graviton")
def main() -> None:
    """Move Python services on ECS from x86 to AWS Graviton (arm64) without an outage.

    \b
    Examples:
      graviton audit requirements.txt
      graviton gate
      graviton build --push -t 123456789012.dkr.ecr.us-east-1.amazonaws.com/api:1 .
      graviton shift --cluster prod --service orders --alarm orders-5xx

    Every command says more with -h; exit codes: 0 pass, 1 a failing finding or result,
    2 usage or bad input, 3 a service could not be reached.
    """


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
