"""The delivery worker gathers the messages of events applied close together into one
round (MS-1): woken several times within its gather window, it reads and commits once."""

from __future__ import annotations

import threading
import time

from permit_notifications.delivery import DeliveryWorker


class Rounds(DeliveryWorker):
    """A worker whose rounds are only counted (no database)."""

    def __init__(self, gather: float) -> None:
        super().__init__(lambda: None, {}, poll_interval=30.0, reminder_interval=3600.0, gather=gather)  # type: ignore[arg-type, return-value]
        self.times: list[float] = []
        self.ran = threading.Event()
        self._last_reminders = time.monotonic()  # no reminder round either

    def run_once(self) -> int:
        self.times.append(time.monotonic())
        self.ran.set()
        return 0


def _wakes_then_rounds(gather: float) -> tuple[list[float], float]:
    worker = Rounds(gather)
    worker.start()
    try:
        assert worker.ran.wait(5)  # the round at start
        started = len(worker.times)
        first_wake = time.monotonic()
        for _ in range(3):  # three messages written 20 ms apart
            worker.wake()
            time.sleep(0.02)
        time.sleep(gather + 0.3)
        return worker.times[started:], first_wake
    finally:
        worker.stop()


def test_wakes_within_the_gather_window_make_one_round_MS_1() -> None:
    rounds, first_wake = _wakes_then_rounds(gather=0.2)
    assert len(rounds) == 1
    assert rounds[0] - first_wake >= 0.2  # it waited for the window before reading


def test_without_a_gather_window_each_wake_is_answered_at_once_MS_1() -> None:
    rounds, _ = _wakes_then_rounds(gather=0.0)
    assert len(rounds) >= 2
