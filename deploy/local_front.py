"""nginx with ``deploy/nginx/rapport.conf`` in front of API instances on this machine.

For ``make prod-smoke`` and ``python -m bench load --proxy``: a self-signed certificate
for 127.0.0.1, the rendered configuration and a small main ``nginx.conf`` whose files
all live in one scratch directory, and free loopback ports.
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RENDER = ROOT / "deploy" / "nginx" / "render"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def nginx_binary() -> str | None:
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    return found if Path(found).exists() else None


@dataclass(frozen=True)
class Front:
    work: Path
    https_port: int
    http_port: int
    internal_port: int

    @property
    def https_url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    @property
    def internal_url(self) -> str:
        """The loopback listener the dashboard uses for the API (plain HTTP)."""
        return f"http://127.0.0.1:{self.internal_port}"

    @property
    def certificate(self) -> Path:
        return self.work / "cert.pem"

    def tls(self) -> ssl.SSLContext:
        """Trusts this front's self-signed certificate, and nothing else."""
        return ssl.create_default_context(cafile=self.certificate)

    def command(self) -> list[str]:
        binary = nginx_binary()
        if binary is None:
            raise RuntimeError("nginx is missing: apt-get install nginx-light (make prod-smoke)")
        config = str(self.work / "nginx.conf")
        return [binary, "-p", str(self.work), "-c", config, "-g", "daemon off;"]


def prepare_front(
    work: Path,
    *,
    api_servers: list[str],
    dashboard_server: str,
    settings: dict[str, str] | None = None,
    workers: int = 1,
) -> Front:
    """Certificate and configuration in ``work``; ``settings`` override the render's."""
    work.chmod(0o755)  # nginx's unprivileged workers read and write below it
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"),
            *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
            *("-keyout", str(work / "key.pem"), "-out", str(work / "cert.pem")),
        ],
        check=True,
        capture_output=True,
    )
    front = Front(
        work=work, https_port=free_port(), http_port=free_port(), internal_port=free_port()
    )
    rendered = subprocess.run(
        [RENDER],
        env={
            **os.environ,
            "RAPPORT_SERVER_NAME": "127.0.0.1",
            "RAPPORT_TLS_CERTIFICATE": str(front.certificate),
            "RAPPORT_TLS_CERTIFICATE_KEY": str(work / "key.pem"),
            "RAPPORT_API_SERVERS": " ".join(api_servers),
            "RAPPORT_DASHBOARD_SERVER": dashboard_server,
            "RAPPORT_HTTPS_LISTEN": f"127.0.0.1:{front.https_port}",
            "RAPPORT_HTTP_LISTEN": f"127.0.0.1:{front.http_port}",
            "RAPPORT_INTERNAL_API_LISTEN": f"127.0.0.1:{front.internal_port}",
            **(settings or {}),
        },
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    (work / "rapport.conf").write_text(rendered)
    (work / "nginx.conf").write_text(
        f"""
worker_processes {workers};
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    log_format upstream '$request_method $uri $status $upstream_addr';
    access_log {work}/access.log upstream;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    include {work}/rapport.conf;
}}
"""
    )
    return front
