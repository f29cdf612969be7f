"""boto3 at the edge: one session factory for every AWS-facing command.

Standard credential chain, ``--profile``, ``--region``, ``--endpoint-url`` (moto, LocalStack,
VPC endpoints) and botocore's ``standard`` retry mode, so a throttled call is retried with
backoff instead of failing the command. Every client believes only its API's own answers
(:mod:`.answers`): a proxy's page read as "nothing there" would fail open.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import click

from graviton.errors import ServiceUnavailable, UsageError, one_line

F = TypeVar("F", bound=Callable[..., Any])

# botocore "standard" mode: attempts include the first call; GRAVITON_AWS_MAX_ATTEMPTS lowers it
DEFAULT_MAX_ATTEMPTS = int(os.environ.get("GRAVITON_AWS_MAX_ATTEMPTS", "8"))


@dataclass(frozen=True)
class AwsOptions:
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    max_attempts: int = DEFAULT_MAX_ATTEMPTS

    def session(self) -> Any:
        import boto3
        import botocore.exceptions

        try:
            return boto3.Session(profile_name=self.profile, region_name=self.region)
        except botocore.exceptions.ProfileNotFound as exc:
            raise UsageError(str(exc)) from None

    def client(self, service: str) -> Any:
        from botocore.config import Config

        session = self.session()
        if session.region_name is None:
            raise UsageError("no AWS region: pass --region or set AWS_REGION / AWS_DEFAULT_REGION")
        from graviton.aws.answers import believe_only_the_api

        config = Config(retries={"mode": "standard", "total_max_attempts": self.max_attempts})
        client = session.client(service, endpoint_url=self.endpoint_url, config=config)
        return believe_only_the_api(client)


def aws_options(func: F) -> F:
    """click decorator: adds --region/--profile/--endpoint-url and passes ``aws=AwsOptions``."""

    @click.option(
        "--region", envvar="AWS_REGION", help="AWS region (default: the credential chain's)."
    )
    @click.option("--profile", envvar="AWS_PROFILE", help="AWS named profile.")
    @click.option(
        "--endpoint-url",
        envvar="GRAVITON_ENDPOINT_URL",
        help="Send every AWS call here (e.g. a moto server: http://127.0.0.1:5000).",
    )
    @functools.wraps(func)
    def wrapper(
        *args: Any, region: str | None, profile: str | None, endpoint_url: str | None, **kw: Any
    ) -> Any:
        region = region or os.environ.get("AWS_DEFAULT_REGION")
        return func(
            *args, aws=AwsOptions(region=region, profile=profile, endpoint_url=endpoint_url), **kw
        )

    return wrapper  # type: ignore[return-value]


@contextmanager
def aws_errors(action: str) -> Iterator[None]:
    """Turn botocore's failures (after its retries) into one-line exit-3 errors."""
    import botocore.exceptions
    import botocore.parsers

    try:
        yield
    except botocore.exceptions.NoCredentialsError:
        raise ServiceUnavailable(f"{action}: no AWS credentials found") from None
    except botocore.exceptions.ClientError as exc:
        err = exc.response.get("Error", {})
        message = one_line(str(err.get("Message", exc)))
        raise ServiceUnavailable(f"{action}: {err.get('Code', 'error')}: {message}") from None
    except botocore.exceptions.BotoCoreError as exc:
        raise ServiceUnavailable(f"{action}: {one_line(str(exc))}") from None
    except botocore.parsers.ResponseParserError:
        # its message carries the body it could not parse: an error or sign-in page, never shown
        raise ServiceUnavailable(f"{action}: an answer that could not be read") from None
