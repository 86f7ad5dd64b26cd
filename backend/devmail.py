"""A mail server for trying Rapport locally: prints every message it receives, sends none.

``make run`` starts it and points the API at it, so the alerts and digests Rapport sends
show in the terminal. Needs aiosmtpd (``pip install -e '.[localmail]'``).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from email import message_from_bytes, policy
from typing import Any


class PrintingHandler:
    """aiosmtpd handler: print the message, accept it."""

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        rule = "-" * 72
        print(
            f"\n{rule}\n  Mail to {', '.join(envelope.rcpt_tos)}: {message['Subject']}\n{rule}\n"
            f"{text.rstrip()}\n{rule}",
            flush=True,
        )
        return "250 Message accepted for delivery"


def main() -> None:
    from aiosmtpd.controller import Controller

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--host", default="127.0.0.1")
    options = parser.parse_args()
    controller = Controller(PrintingHandler(), hostname=options.host, port=options.port)
    controller.start()
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    stopped.wait()
    controller.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
