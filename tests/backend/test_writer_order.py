"""On SQLite, a write a client's phone waits on goes before queued staff and background writes."""

from __future__ import annotations

import threading
import time

import pytest


def test_an_urgent_write_goes_before_a_write_queued_earlier(db) -> None:
    if not db.settings.is_sqlite:
        pytest.skip("PostgreSQL has no single writer to queue for")
    order: list[str] = []
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with db.writing():
            holding.set()
            assert release.wait(10)

    def write(name: str, *, urgent: bool) -> None:
        with db.writing(urgent=urgent):
            order.append(name)

    held = threading.Thread(target=hold)
    held.start()
    assert holding.wait(10)
    staff = threading.Thread(target=write, args=("audit of a read",), kwargs={"urgent": False})
    staff.start()
    time.sleep(0.1)  # the staff write is queued first
    phone = threading.Thread(target=write, args=("rating",), kwargs={"urgent": True})
    phone.start()
    deadline = time.monotonic() + 10
    while db._writer_lock._urgent_waiting == 0:
        assert time.monotonic() < deadline, "the urgent write never queued"
        time.sleep(0.01)
    release.set()
    for thread in (held, staff, phone):
        thread.join(10)

    assert order == ["rating", "audit of a read"]


def test_a_failed_write_leaves_the_writer_free(db) -> None:
    with pytest.raises(RuntimeError), db.writing(urgent=True):
        raise RuntimeError("refused")

    finished = threading.Event()

    def write() -> None:
        with db.writing():
            finished.set()

    thread = threading.Thread(target=write)
    thread.start()
    thread.join(10)
    assert finished.is_set()
