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
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in SUBCOMMANDS if self._spec_available(name))

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
            ctx.exit(130)
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
    module = type(exc).__module__.split(".")[0]
    if module in {"botocore", "boto3", "requests", "urllib3", "docker"} or isinstance(exc, OSError):
        return 3
    return 70  # EX_SOFTWARE: a bug in graviton; GRAVITON_DEBUG=1 shows the traceback


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="graviton")
def main() -> None:
    """Move Python services on ECS from x86 to AWS Graviton (arm64) without an outage.

    \b
    audit    will every pinned dependency install on linux/aarch64?
    build    multi-arch images with buildx, proven in the registry
    verify   prove an image in a registry has every platform
    shift    staged, alarm-gated move of an ECS service to Graviton
    gate     the audit + Dockerfile + image checks as one CI step
    savings  what the move saves, per capacity provider
    """


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
