"""Start ``moto_server`` as a separate process on a free 127.0.0.1 port, yield its URL, stop it.

The tests talk to it over real HTTP with ``endpoint_url``; nothing is mocked in-process.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

# moto's ECS service model reports this many running tasks, and a COMPLETED deployment when it
# is at least the service's desired count (read when a service is created).
DEFAULT_ENV = {"MOTO_ECS_SERVICE_RUNNING": "4"}

# Fake credentials so boto3 never reaches for real ones.
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _moto_binary() -> list[str]:
    here = Path(sys.executable).parent / "moto_server"
    if here.exists():
        return [str(here)]
    found = shutil.which("moto_server")
    if found:
        return [found]
    return [sys.executable, "-m", "moto.server"]


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"moto_server exited with {proc.returncode} before answering")
        try:
            with urllib.request.urlopen(f"{url}/moto-api/data.json", timeout=1):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    raise RuntimeError(f"moto_server did not answer on {url} within {timeout:.0f}s")


def set_transition(url: str, model_name: str, transition: Mapping[str, object]) -> None:
    """moto's state manager: how a model's status advances (e.g. ECS tasks)."""
    body = json.dumps({"model_name": model_name, "transition": dict(transition)}).encode()
    req = urllib.request.Request(
        f"{url}/moto-api/state-manager/set-transition", data=body, method="POST"
    )
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=5):
        pass


@contextmanager
def moto_server(env: Mapping[str, str] | None = None, *, timeout: float = 30.0) -> Iterator[str]:
    """Run a moto server; yields ``http://127.0.0.1:PORT``.

    ``env`` adds to :data:`DEFAULT_ENV` (e.g. ``MOTO_ECS_SERVICE_RUNNING=0`` for deployments
    that never complete). ECS tasks are set to stay RUNNING: by default moto moves a task
    towards STOPPED each time it is described.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc_env = {**os.environ, **DEFAULT_ENV, **FAKE_CREDENTIALS, **(env or {})}
    proc = subprocess.Popen(
        [*_moto_binary(), "-H", "127.0.0.1", "-p", str(port)],
        env=proc_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_up(url, proc, timeout)
        set_transition(url, "ecs::task", {"progression": "manual", "times": 10**9})
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def reset(url: str) -> None:
    """Forget every resource on the server (``POST /moto-api/reset``), keep our ECS settings."""
    req = urllib.request.Request(f"{url}/moto-api/reset", data=b"", method="POST")
    with urllib.request.urlopen(req, timeout=10):
        pass
    set_transition(url, "ecs::task", {"progression": "manual", "times": 10**9})
