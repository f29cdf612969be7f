"""graviton.interrupts: SIGTERM unwinds like Ctrl-C, one mechanism for every command (the CLI
tests of audit, shift, capacity create, build and validate each send a real SIGTERM too)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from graviton.interrupts import Terminated, shield, sigterm_raises, terminated_line


def test_sigterm_raises_terminated_in_the_block_and_restores_the_handler() -> None:
    before = signal.getsignal(signal.SIGTERM)
    cleaned = []
    with pytest.raises(Terminated), sigterm_raises():
        try:
            os.kill(os.getpid(), signal.SIGTERM)  # Python runs the handler at once
        finally:
            cleaned.append(True)  # clean-up ran, as on Ctrl-C
    assert cleaned == [True]
    assert signal.getsignal(signal.SIGTERM) == before


def test_shield_keeps_a_second_sigterm_from_cutting_the_cleanup() -> None:
    with sigterm_raises():
        shield()
        os.kill(os.getpid(), signal.SIGTERM)  # ignored: no exception
    assert signal.getsignal(signal.SIGTERM) != signal.SIG_IGN


def test_a_process_without_it_dies_at_once_and_with_it_unwinds() -> None:
    """What the mechanism changes: the default action skips every finally."""
    script = textwrap.dedent(
        """
        import os, signal, sys
        from graviton.interrupts import Terminated, sigterm_raises
        use = sys.argv[1] == "on"
        try:
            if use:
                with sigterm_raises():
                    os.kill(os.getpid(), signal.SIGTERM)
            else:
                os.kill(os.getpid(), signal.SIGTERM)
        except Terminated:
            print("unwound")
            sys.exit(143)
        finally:
            print("finally")
        """
    )
    on = subprocess.run([sys.executable, "-c", script, "on"], capture_output=True, text=True)
    off = subprocess.run([sys.executable, "-c", script, "off"], capture_output=True, text=True)
    assert (on.returncode, on.stdout.split()) == (143, ["unwound", "finally"])
    assert (off.returncode, off.stdout) == (-signal.SIGTERM, "")


def test_the_line() -> None:
    assert terminated_line(Terminated()) == "graviton: terminated"
    assert terminated_line(Terminated("lease released")) == (
        "graviton: terminated (SIGTERM): lease released"
    )
