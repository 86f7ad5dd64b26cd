"""The browser's address, as the dashboard vouches for it on a sign-in.

The dashboard signs people in from its own address, so without this every sign-in
through it would count against one address and 20 wrong passwords would lock the
whole clinic out. The dashboard sends the address of the browser it serves in one
header, signed with a key only it and the API know (``RAPPORT_DASHBOARD_KEY``) and
stamped with the time, so nobody else can claim an address and an overheard header
stops working within a minute. Pure: no I/O, the clock is an argument.
"""

from __future__ import annotations

import hmac
import ipaddress

HEADER = "X-Rapport-Browser"
#: How long a signed address is believed after it was signed.
MAX_AGE_SECONDS = 60


def _signature(key: str, address: str, signed_at: int) -> str:
    message = f"browser-address:{address}:{signed_at}".encode()
    return hmac.new(key.encode(), message, "sha256").hexdigest()


def signed_browser_address(*, key: str, address: str, now: float) -> str:
    """The header value: ``<address> <unix time> <HMAC-SHA256>``."""
    signed_at = int(now)
    return f"{address} {signed_at} {_signature(key, address, signed_at)}"


def verified_browser_address(value: str | None, *, key: str, now: float) -> str | None:
    """The address the dashboard signed, or None if the header is absent, stale or forged."""
    if not value or not key:
        return None
    parts = value.split(" ")
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    address, signed_at, signature = parts[0], int(parts[1]), parts[2]
    if abs(now - signed_at) > MAX_AGE_SECONDS:
        return None
    if not hmac.compare_digest(signature, _signature(key, address, signed_at)):
        return None
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def address_behind_proxies(peer: str | None, forwarded_for: str | None, proxies: list[str]) -> str:
    """The client's address when ``peer`` may be one of our ``proxies``.

    Walks X-Forwarded-For from the right (the hops our proxies appended) and takes the
    first address that is not one of them; earlier hops are whatever the client sent.
    The same rule uvicorn applies with ``--forwarded-allow-ips``.
    """
    networks = [ipaddress.ip_network(proxy, strict=False) for proxy in proxies]

    def trusted(address: str) -> bool:
        try:
            parsed = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(parsed in network for network in networks)

    current = peer or "127.0.0.1"
    if not trusted(current) or not forwarded_for:
        return current
    for hop in reversed([hop.strip() for hop in forwarded_for.split(",") if hop.strip()]):
        current = hop
        if not trusted(hop):
            break
    return current
