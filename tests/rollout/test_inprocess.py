"""The controller in-process against the moto server process, with botocore event hooks on its
clients: to record every API call (dry run, call counts) and to inject ThrottlingException."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse, HeadersDict

from graviton.aws import AwsOptions
from graviton.oci.ecr import EcrClients
from graviton.rollout.ecs import MUTATING_CALLS
from graviton.rollout.events import ListSink
from graviton.rollout.plan import Timing
from graviton.rollout.preflight import Clients
from graviton.rollout.runner import Runner, ShiftRequest
from tests.rollout.helpers import REGION, snapshot, strategy, weights

pytestmark = pytest.mark.moto


def hooked_clients(url: str, hook: Callable[[Any], None]) -> Clients:
    options = AwsOptions(region=REGION, endpoint_url=url)

    def make(service: str) -> Any:
        made = options.client(service)
        hook(made)
        return made

    def make_ecr(region: str) -> Any:
        made = AwsOptions(region=region, endpoint_url=url).client("ecr")
        hook(made)
        return made

    return Clients(make, EcrClients(endpoint_url=url, make=make_ecr))


def request(c: dict[str, Any], **changes: Any) -> ShiftRequest:
    base: dict[str, Any] = {
        "cluster": c["cluster"],
        "services": ("orders",),
        "alarms": tuple(c["alarms"]["orders"]),
        "timing": Timing(bake=0.4, poll=0.1, deploy_timeout=10),
    }
    return ShiftRequest(**(base | changes))


@pytest.fixture
def calls() -> Iterator[Counter[str]]:
    yield Counter()


def recorder(calls: Counter[str]) -> Callable[[Any], None]:
    def hook(client: Any) -> None:
        def record(model: Any, **_: Any) -> None:
            calls[model.name] += 1

        client.meta.events.register("before-call", record)

    return hook


def test_dry_run_calls_no_mutating_api(cluster: dict[str, Any], calls: Counter[str]) -> None:
    before = snapshot(cluster)
    sink = ListSink()
    clients = hooked_clients(cluster["endpoint_url"], recorder(calls))
    code = Runner(request(cluster, dry_run=True), clients, sink).run()
    assert code == 0
    assert sink.kinds()[-1] == "plan"
    assert calls["DescribeServices"] and calls["BatchGetImage"] and calls["DescribeAlarms"]
    assert not set(calls) & MUTATING_CALLS, calls
    assert snapshot(cluster) == before


def test_the_same_run_without_dry_run_does_mutate(cluster: dict[str, Any], calls: Counter[str]):
    """The recorder sees mutating calls when they happen (the dry-run test can fail)."""
    clients = hooked_clients(cluster["endpoint_url"], recorder(calls))
    assert Runner(request(cluster, to=25), clients, ListSink()).run() == 0
    # the step's strategy, then the service's own deployment configuration put back at the end
    assert calls["UpdateService"] == 2 and calls["TagResource"] >= 3


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


def throttler(injected: Counter[str], every: int = 5) -> Callable[[Any], None]:
    """Answer the 2nd, (2+``every``)th, ... request of each ECS operation with HTTP 400
    ThrottlingException before it is sent; botocore's standard retry mode must retry it."""
    seen: Counter[str] = Counter()

    def hook(client: Any) -> None:
        def maybe_throttle(request: Any, **_: Any) -> AWSResponse | None:
            target = request.headers.get("X-Amz-Target", b"")
            target = target.decode() if isinstance(target, bytes) else target
            if not target.startswith("AmazonEC2ContainerService"):
                return None
            op = target.rsplit(".", 1)[-1]
            seen[op] += 1
            if seen[op] % every != 2 % every:
                return None
            injected[op] += 1
            body = b'{"__type":"ThrottlingException","message":"Rate exceeded"}'
            headers = HeadersDict({"Content-Type": "application/x-amz-json-1.1"})
            return AWSResponse(request.url, 400, headers, _Body(body))

        client.meta.events.register("before-send", maybe_throttle)

    return hook


def test_throttled_calls_are_retried_and_the_rollout_completes(cluster: dict[str, Any]) -> None:
    injected: Counter[str] = Counter()
    clients = hooked_clients(cluster["endpoint_url"], throttler(injected))
    sink = ListSink()
    req = request(cluster, lock_table=cluster["lock_table"], to=50)
    code = Runner(req, clients, sink).run()
    assert code == 0, [e.text() for e in sink.events]
    assert injected["UpdateService"] == 1 and injected["TagResource"] >= 1
    assert injected["DescribeServices"] >= 1 and injected["ListTagsForResource"] >= 1
    assert strategy(cluster) == weights(cluster, 50)
    assert sink.kinds().count("good") == 2
