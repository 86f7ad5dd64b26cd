"""A scoring pass held open mid-way, for tests of what arrives while one runs."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import pytest

import backend.flags.rescore_queue as rescore_queue
from backend.flags.rescore_queue import catch_up


@dataclass
class HeldPass:
    """A catch-up pass that stops at its first scoring call until ``finish``."""

    scoring: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def start(self, db) -> None:
        """Start the pass in a thread and wait until it is scoring."""
        self.thread = threading.Thread(target=catch_up, args=(db,))
        self.thread.start()
        assert self.scoring.wait(10)

    def finish(self) -> None:
        """Let the pass go on, and wait for it."""
        self.release.set()
        assert self.thread is not None
        self.thread.join(10)


@pytest.fixture
def held_pass(monkeypatch) -> HeldPass:
    held = HeldPass()
    real_score = rescore_queue.score_clients

    def held_open(session, client_ids, **kwargs):
        if not held.scoring.is_set():
            held.scoring.set()
            assert held.release.wait(10)
        return real_score(session, client_ids, **kwargs)

    monkeypatch.setattr(rescore_queue, "score_clients", held_open)
    return held
