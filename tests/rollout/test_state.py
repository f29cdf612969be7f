"""State tags: the ECS tag rule is checked on every write; encode/decode round-trips."""

from __future__ import annotations

import pytest

from graviton.rollout.state import (
    MAX_VALUE,
    Phase,
    RolloutState,
    StateError,
    check_tag,
    decode,
    encode,
    stale_keys,
)

STATE = RolloutState(
    run_id="r20261128T000949-3f2a",
    x86="prod-x86",
    arm="prod-graviton",
    steps=(25, 50, 75, 100),
    start=0,
    index=1,
    current=50,
    last_good=25,
    phase=Phase.BAKING,
    updated="2026-11-28T00:09:49Z",
)


def test_round_trip() -> None:
    tags = encode(STATE)
    assert tags["graviton:weights"] == "x86=50 arm=50"
    assert tags["graviton:last-good"] == "x86=75 arm=25"
    assert tags["graviton:step"] == "2/4"
    assert decode({**tags, "team": "payments"}) == STATE


def test_failure_round_trip_and_free_text_is_made_to_fit() -> None:
    failed = STATE.with_(
        phase=Phase.ROLLED_BACK,
        failed_step=2,
        reason="alarm orders|5xx (p99>1s) " + "x" * 400,
    )
    tags = encode(failed)
    assert len(tags["graviton:reason"]) == MAX_VALUE
    assert tags["graviton:reason"].startswith("alarm orders_5xx _p99_1s_ ")
    back = decode(tags)
    assert back is not None and back.failed_step == 2 and back.phase is Phase.ROLLED_BACK


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("graviton:x", "a" * 257),
        ("graviton:x", "semi;colon"),
        ("aws:thing", "v"),
        ("", "v"),
        ("k" * 129, "v"),
        ("graviton:x", "new\nline"),
        ("graviton:x", "ünïcode"),
    ],
)
def test_tag_rule_rejects(key: str, value: str) -> None:
    with pytest.raises(StateError):
        check_tag(key, value)


def test_tag_rule_accepts_the_allowed_set() -> None:
    check_tag("graviton:weights", "x86=50 arm=50 _.:/=+-@ " + "a" * 200)


def test_provider_names_too_long_for_a_tag_are_refused_before_writing() -> None:
    with pytest.raises(StateError):
        encode(STATE.with_(x86="p" * 300))


def test_decode_none_and_garbled() -> None:
    assert decode({"team": "payments"}) is None
    with pytest.raises(StateError):
        decode({**encode(STATE), "graviton:weights": "half"})


def test_stale_keys() -> None:
    old = encode(STATE.with_(failed_step=1, reason="earlier"))
    assert sorted(stale_keys({**old, "team": "x"}, STATE)) == ["graviton:failed", "graviton:reason"]


def test_new_fields_round_trip_and_the_saved_configuration_is_compressed() -> None:
    from graviton.rollout.state import config_json, config_of, tags_needed

    own = {"maximumPercent": 150, "alarms": {"alarmNames": ["a" * 200, "b" * 200], "enable": True}}
    state = STATE.with_(
        deployment="ecs-svc/123", lock="graviton-locks", expect="2026-11-28T00:21:04Z",
        saved_config=config_json(own),
    )  # fmt: skip
    tags = encode(state)
    chunks = [k for k in tags if k.startswith("graviton:config-")]
    assert chunks and all(len(tags[k]) <= MAX_VALUE for k in chunks)
    back = decode(tags)
    assert back == state and config_of(back) == own
    assert tags_needed(state.saved_config) == 15 + len(chunks)


def test_a_configuration_too_big_for_the_tags_is_refused_before_writing() -> None:
    import json
    import random

    from graviton.rollout.state import config_json

    rng = random.Random(1)
    noise = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(2000))
    with pytest.raises(StateError):
        encode(STATE.with_(saved_config=config_json({"x": noise})))
    assert json.loads(config_json({"b": 1, "a": 2})) == {"a": 2, "b": 1}
