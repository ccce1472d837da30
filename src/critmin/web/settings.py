"""Settings of the web app, and the rule that decides whether it may start at all."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from critmin.errors import CritminError

DEFAULT_MAX_UPLOAD_BYTES = 50 * 1024 * 1024
TOKEN_ENV = "CRITMIN_TOKEN"


class UnsafeBindError(CritminError):
    """Refusing to expose the app beyond this machine without an access token."""


@dataclass(frozen=True)
class WebSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None
    workspace: Path | None = None
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    # What each ledger's analysis includes (see critmin.views.analysis.analyse): Monte Carlo draws, and the
    # shipped sourcing problem and projects shown on the Sourcing and Investment pages.
    draws: int = 2000
    sourcing_problem: str | None = "ndfeb_magnets"
    projects: tuple[str, ...] = ("lioh_refinery", "ndpr_separation")
    analyses_cached: int = 4

    @classmethod
    def from_env(
        cls, host: str = "127.0.0.1", port: int = 8000, workspace: Path | None = None
    ) -> WebSettings:
        token = os.environ.get(TOKEN_ENV) or None
        limit = int(os.environ.get("CRITMIN_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES))
        return cls(host=host, port=port, token=token, workspace=workspace, max_upload_bytes=limit)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(settings: WebSettings) -> None:
    """On any address but loopback, a token is required: the ledger is commercially sensitive."""
    if not is_loopback(settings.host) and not settings.token:
        raise UnsafeBindError(
            f"Refusing to serve on {settings.host}: that address is reachable from other machines. "
            f"Set {TOKEN_ENV} to a long random secret (e.g. `export {TOKEN_ENV}=$(openssl rand -hex 32)`), "
            "or bind to 127.0.0.1."
        )
    if settings.token is not None and len(settings.token) < 16:
        raise UnsafeBindError(
            f"{TOKEN_ENV} is too short: use at least 16 characters (32 random hex is good)."
        )
