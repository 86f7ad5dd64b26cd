"""A rating link as a card to print and hand to the client: QR code, address, expiry."""

from __future__ import annotations

import html
from typing import Any

from dashboard.labels import day_label

_STYLE = """
body { font-family: system-ui, sans-serif; color: #111; margin: 2rem; }
.card { border: 2px solid #111; border-radius: 12px; padding: 1.5rem; max-width: 22rem; }
h1 { font-size: 1.3rem; margin: 0 0 .5rem; }
p { margin: .5rem 0; line-height: 1.4; }
.url { font-family: monospace; word-break: break-all; font-size: .85rem; }
@media print { body { margin: 0; } }
"""


def card_html(issued: dict[str, Any]) -> str:
    """A self-contained page (no scripts, no outside files) holding one issued link.

    It names no client: only the link, which works once and expires.
    """
    url = html.escape(issued["url"])
    expires = day_label(issued["expires_at"][:10])
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>How was today's session?</title><style>{_STYLE}</style></head><body>"
        "<div class='card'><h1>How was today's session?</h1>"
        "<p>Scan the code with your phone's camera, or type the address. It takes "
        "30 seconds and helps us work well together.</p>"
        f"{issued['qr_svg']}<p class='url'>{url}</p>"
        f"<p>This link works once, until {expires}.</p></div>"
        "</body></html>"
    )
