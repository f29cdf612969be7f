"""validate's options, once, for every verb that validates: ``graviton validate`` (``--run``,
``--timeout``, ``--import-timeout``) and ``graviton build --validate`` / ``graviton gate
--validate IMAGE`` (the same options named ``--validate-run``, ``--validate-timeout``,
``--validate-import-timeout``, beside their own ``--target``/``--smoke-timeout``...). ``--cpu``,
``--cluster`` and ``--provider`` have the same names everywhere. The decorated command gets
``validation=ValidateOptions``; :meth:`ValidateOptions.request` makes the
:class:`~graviton.validate.request.Request` with the one maker,
:func:`graviton.validate.request.make_request`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import click

from graviton.aws import AwsOptions
from graviton.validate.request import (
    CPUS,
    DEFAULT_IMPORT_TIMEOUT,
    DEFAULT_TIMEOUT,
    Request,
    make_request,
)

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class ValidateOptions:
    cpu: str | None
    cluster: str | None
    provider: str | None
    run_command: str | None
    timeout: str
    import_timeout: str
    run_option: str  # "--run" or "--validate-run", for messages

    @property
    def given(self) -> bool:
        """Any of the options set on the command line (build and gate: only with --validate)."""
        return (self.cpu, self.cluster, self.provider, self.run_command) != (None,) * 4 or (
            self.timeout,
            self.import_timeout,
        ) != (DEFAULT_TIMEOUT, DEFAULT_IMPORT_TIMEOUT)

    def request(self, image: str, aws: AwsOptions | None) -> Request:
        return make_request(
            image,
            self.cpu,
            self.cluster,
            self.provider,
            self.run_command,
            self.timeout,
            self.import_timeout,
            aws,
            run_option=self.run_option,
        )


def validate_options(prefix: str = "") -> Callable[[F], F]:
    """click decorator: validate's options (``prefix="validate-"`` on build and gate)."""
    run_option = f"--{prefix}run"
    timeout_option = f"--{prefix}timeout"
    import_option = f"--{prefix}import-timeout"
    when = "" if not prefix else " (with --validate)"

    def decorate(func: F) -> F:
        @click.option(
            "--cpu",
            "v_cpu",
            type=click.Choice(CPUS),
            default=None,
            help=f"Graviton generation to emulate{when} [default: graviton2, or auto with "
            "--cluster/--provider]; auto reads the ARM capacity provider's instance types "
            "(mixed: the oldest).",
        )
        @click.option(
            "--cluster",
            "v_cluster",
            help="With --cpu auto: the ECS cluster whose ARM providers count.",
        )
        @click.option(
            "--provider", "v_provider", help="With --cpu auto: the ARM capacity provider."
        )
        @click.option(
            run_option,
            "v_run",
            metavar="CMD",
            help=f"Run CMD after the imports, on the same CPU{when}.",
        )
        @click.option(
            timeout_option,
            "v_timeout",
            default=DEFAULT_TIMEOUT,
            show_default=True,
            metavar="DURATION",
            help=f"The whole validate run, per image{when}; the container is removed then.",
        )
        @click.option(
            import_option,
            "v_import_timeout",
            default=DEFAULT_IMPORT_TIMEOUT,
            show_default=True,
            metavar="DURATION",
            help=f"Each module's import{when}.",
        )
        @functools.wraps(func)
        def wrapper(
            *args: Any,
            v_cpu: str | None,
            v_cluster: str | None,
            v_provider: str | None,
            v_run: str | None,
            v_timeout: str,
            v_import_timeout: str,
            **kw: Any,
        ) -> Any:
            options = ValidateOptions(
                v_cpu, v_cluster, v_provider, v_run, v_timeout, v_import_timeout, run_option
            )
            return func(*args, validation=options, **kw)

        return wrapper  # type: ignore[return-value]

    return decorate
