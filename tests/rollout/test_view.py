"""What the operator sees: the live view keeps its history above the panel, its final counts
agree with `graviton status`; the finalized strategy reads as providers and weights."""

from __future__ import annotations

import io
from typing import Any

import pytest
from rich.console import Console

from graviton.aws import AwsOptions
from graviton.oci.ecr import EcrClients
from graviton.rollout.events import Event, TextSink
from graviton.rollout.plan import Timing
from graviton.rollout.preflight import Clients
from graviton.rollout.runner import Runner, ShiftRequest
from graviton.rollout.status import read_status
from graviton.rollout.view import LiveSink
from tests.rollout.helpers import REGION


def live() -> tuple[LiveSink, io.StringIO]:
    out = io.StringIO()
    return LiveSink(Console(file=out, force_terminal=True, width=160)), out


def test_every_event_is_printed_once_above_the_panel() -> None:
    sink, out = live()
    checks = [f"check number {i}" for i in range(12)]
    for text in checks:
        sink.emit(Event("check", "orders", {"check": text, "ok": True, "detail": "fine"}))
    step = {"run": "r", "step": 1, "of": 4, "weights": {"x86": 75, "arm": 25}, "deployment": "d"}
    sink.emit(Event("step", "orders", step))
    sink.close()
    text = out.getvalue()
    for check in checks:  # the whole history, each line once (not re-drawn in a rolling log)
        assert text.count(f"{check}: fine") == 1, check
    assert text.index("check number 0") < text.index("check number 11") < text.rindex("step")


def test_finalized_strategy_reads_as_providers_and_weights() -> None:
    out = io.StringIO()
    TextSink(out).emit(
        Event(
            "finalized",
            "orders",
            {
                "strategy": [{"capacityProvider": "cp-arm", "weight": 100, "base": 0}],
                "dropped": ["cp-x86"],
                "scaled_in": False,
            },
        )
    )
    assert "finalized: strategy cp-arm:100 (base 0), cp-x86:0" in out.getvalue()
    assert "{" not in out.getvalue()


@pytest.mark.moto
def test_the_final_panel_agrees_with_status(cluster: dict[str, Any]) -> None:
    url = cluster["endpoint_url"]
    aws = AwsOptions(region=REGION, endpoint_url=url)
    clients = Clients(aws.client, EcrClients(endpoint_url=url))
    request = ShiftRequest(
        cluster="prod",
        services=("orders",),
        to=75,
        alarms=tuple(cluster["alarms"]["orders"]),
        timing=Timing(bake=0.3, poll=0.1, deploy_timeout=10),
    )
    sink, _ = live()
    assert Runner(request, clients, sink).run() == 0
    sink.close()
    panel = sink.services["orders"]
    report = read_status(clients, "prod", "orders")
    assert panel.running == report["running"] and panel.arch == report["running_arch"]
    assert report["running_arch"] == {"x86_64": 1, "arm64": 3}
