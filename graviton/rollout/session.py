"""What every part of a run shares: the request, the AWS clients, the event sink, the clock,
the leases held, and the state store (the service's tags, read once and then written only)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from graviton.errors import one_line
from graviton.rollout.bake import NoData, Seen
from graviton.rollout.events import Event, Sink
from graviton.rollout.lock import Lease
from graviton.rollout.preflight import Clients, ShiftTarget
from graviton.rollout.request import Clock, ShiftRequest
from graviton.rollout.state import Phase, RolloutState, StateError, decode, encode, stale_keys
from graviton.timeutil import utc_timestamp

EXPECT_GRACE_S = 60.0


@dataclass
class Session:
    req: ShiftRequest
    clients: Clients
    sink: Sink
    clock: Clock = field(default_factory=Clock)
    leases: list[Lease] = field(default_factory=list)
    seen: dict[tuple[str, str], Seen] = field(default_factory=dict)  # (service, alarm)
    _tags: dict[str, dict[str, str]] = field(default_factory=dict)  # service ARN -> known tags

    def emit(self, kind: str, service: str | None = None, **data: object) -> None:
        self.sink.emit(Event(kind, service, data, self.clock.iso()))

    def heartbeat(self) -> None:
        for lease in self.leases:
            lease.heartbeat()

    # -- the state store ------------------------------------------------------------------
    def remember(self, arn: str, tags: Mapping[str, str]) -> RolloutState | None:
        """Take ``tags`` (just read from the service) as what is there; return its state."""
        self._tags[arn] = dict(tags)
        return decode(tags)

    def read_state(self, arn: str) -> RolloutState | None:
        return self.remember(arn, self.clients.ecs.tags(arn))

    def expect_by(self, state: RolloutState) -> str:
        """When a live controller in ``state`` writes again at the latest (`graviton status`
        says no controller is running after it)."""
        if not state.phase.active:
            return ""
        t = self.req.timing
        wait = t.deploy_timeout
        if state.phase is Phase.BAKING:
            wait = t.bake + (
                t.deploy_timeout if self.req.on_insufficient_data is NoData.WAIT else 0
            )
        return utc_timestamp(self.clock.wall() + wait + 2 * t.poll + EXPECT_GRACE_S)

    def save(self, target: ShiftTarget, state: RolloutState) -> RolloutState:
        """Write ``state`` to the service's tags (and drop our keys it no longer has)."""
        state = state.with_(expect=self.expect_by(state))
        arn, ecs = target.service.arn, self.clients.ecs
        tags = encode(state)  # checked against the ECS tag rule before anything is written
        old = self._tags.get(arn)
        if old is None:
            old = ecs.tags(arn)
        ecs.put_tags(arn, tags)
        stale = stale_keys(old, state)
        ecs.remove_tags(arn, stale)
        self._tags[arn] = {**{k: v for k, v in old.items() if k not in stale}, **tags}
        return state

    def save_best_effort(self, target: ShiftTarget, state: RolloutState) -> RolloutState:
        """:meth:`save`, but a failure is reported, not raised: used after a rollback went out,
        which must never depend on the bookkeeping. The next run repairs the state."""
        import botocore.exceptions

        try:
            return self.save(target, state)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            why = one_line(str(exc))
        except StateError as exc:
            why = str(exc)
        self._tags.pop(target.service.arn, None)  # unknown now: read again before a write
        self.emit(
            "warning",
            target.service.name,
            message=f"could not record the state ({state.phase.value}): {why}; "
            "the next run repairs it",
        )
        return state
