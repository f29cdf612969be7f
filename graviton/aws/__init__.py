"""The boto3 adapters: one session factory (:mod:`.session`) and the fleet readers every
capability shares (:mod:`.fleet`: one "auto scaling group -> instance types" reader). Every
client the factory makes believes only its API's own answers (:mod:`.answers`).

Every name ``graviton.aws`` exported as a module stays importable from here.
"""

from __future__ import annotations

from graviton.aws.session import (
    DEFAULT_MAX_ATTEMPTS,
    AwsOptions,
    aws_errors,
    aws_options,
)

__all__ = ["DEFAULT_MAX_ATTEMPTS", "AwsOptions", "aws_errors", "aws_options"]
