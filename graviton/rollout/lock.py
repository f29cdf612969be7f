"""A per-service lease in DynamoDB, so two controllers never drive the same service.

The item ``{<hash key>: "graviton/<cluster>/<service>", owner, since, expires}`` is written with
a conditional put: it succeeds only when no lease exists, the existing one has expired, or it is
ours. The holder renews ``expires`` (heartbeat) while it works and deletes the item when done.
The table is the user's: any table whose partition key is a string (a Terraform ``LockID``
table works); the key's name is read from the table.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graviton.errors import Locked, PreflightError
from graviton.timeutil import utc_timestamp as iso

DEFAULT_TTL = 60.0


def default_owner() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class LeaseInfo:
    key: str
    owner: str
    since: str
    expires: float


class Lease:
    def __init__(
        self,
        client: Any,
        table: str,
        key: str,
        *,
        owner: str | None = None,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.table = table
        self.key = key
        self.owner = owner or default_owner()
        self.ttl = ttl
        self.clock = clock
        self._hash_key: str | None = None
        self.held = False

    @staticmethod
    def key_for(cluster: str, service: str) -> str:
        return f"graviton/{cluster}/{service}"

    @property
    def hash_key(self) -> str:
        if self._hash_key is None:
            try:
                desc = self.client.describe_table(TableName=self.table)["Table"]
            except self.client.exceptions.ResourceNotFoundException:
                raise PreflightError(f"lock table {self.table} not found") from None
            schema = {k["KeyType"]: k["AttributeName"] for k in desc["KeySchema"]}
            types = {a["AttributeName"]: a["AttributeType"] for a in desc["AttributeDefinitions"]}
            name = schema.get("HASH", "")
            if "RANGE" in schema or types.get(name) != "S":
                raise PreflightError(
                    f"lock table {self.table} needs a string partition key and no sort key"
                )
            self._hash_key = name
        return self._hash_key

    def _item_key(self) -> dict[str, Any]:
        return {self.hash_key: {"S": self.key}}

    def current(self) -> LeaseInfo | None:
        resp = self.client.get_item(TableName=self.table, Key=self._item_key(), ConsistentRead=True)
        item = resp.get("Item")
        if not item:
            return None
        return LeaseInfo(
            key=self.key,
            owner=item.get("owner", {}).get("S", "?"),
            since=item.get("since", {}).get("S", "?"),
            expires=float(item.get("expires", {}).get("N", "0")),
        )

    def acquire(self) -> None:
        """Take the lease or raise :class:`Locked` ("locked by OWNER since TIME")."""
        now = self.clock()
        try:
            self.client.put_item(
                TableName=self.table,
                Item={
                    **self._item_key(),
                    "owner": {"S": self.owner},
                    "since": {"S": iso(now)},
                    "expires": {"N": str(round(now + self.ttl, 3))},
                },
                ConditionExpression="attribute_not_exists(#k) OR #e < :now OR #o = :me",
                ExpressionAttributeNames={"#k": self.hash_key, "#e": "expires", "#o": "owner"},
                ExpressionAttributeValues={":now": {"N": str(now)}, ":me": {"S": self.owner}},
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            held = self.current()
            who = f"{held.owner} since {held.since}" if held else "another controller"
            raise Locked(
                f"{self.key.removeprefix('graviton/')} is locked by {who} "
                f"(lock table {self.table}; `graviton unlock` breaks it)"
            ) from None
        self.held = True

    def heartbeat(self) -> None:
        """Extend the lease; raise :class:`Locked` if someone broke it and took it over."""
        if not self.held:
            return
        now = self.clock()
        try:
            self.client.update_item(
                TableName=self.table,
                Key=self._item_key(),
                UpdateExpression="SET #e = :exp",
                ConditionExpression="#o = :me",
                ExpressionAttributeNames={"#e": "expires", "#o": "owner"},
                ExpressionAttributeValues={
                    ":exp": {"N": str(round(now + self.ttl, 3))},
                    ":me": {"S": self.owner},
                },
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            self.held = False
            raise Locked(f"lost the lease on {self.key} (broken with `graviton unlock`?)") from None

    def release(self) -> None:
        if not self.held:
            return
        with contextlib.suppress(self.client.exceptions.ConditionalCheckFailedException):
            self.client.delete_item(
                TableName=self.table,
                Key=self._item_key(),
                ConditionExpression="#o = :me",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":me": {"S": self.owner}},
            )
        self.held = False

    def break_(self) -> LeaseInfo | None:
        """`graviton unlock`: delete the lease whoever holds it; returns what it was."""
        held = self.current()
        if held is not None:
            self.client.delete_item(TableName=self.table, Key=self._item_key())
        return held
