"""Settings of the web app, and the rule that decides whether it may start at all."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from critmin.errors import CritminError

DEFAULT_MAX_UPLOAD_BYTES = 50 * 1024 * 1024
TOKEN_ENV = "CRITMIN_TOKEN"
ALLOWED_HOSTS_ENV = "CRITMIN_ALLOWED_HOSTS"
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARD_BINDS = frozenset({"0.0.0.0", "::", ""})


class UnsafeBindError(CritminError):
    """Refusing to expose the app beyond this machine without an access token."""


@dataclass(frozen=True)
class WebSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None
    workspace: Path | None = None
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    # Host names the server answers to besides localhost, the loopback addresses and the bound address
    # (see host_allowed); e.g. the machine's DNS name when it is served to a team.
    allowed_hosts: tuple[str, ...] = ()
    # What each ledger's analysis includes (see critmin.views.analysis.analyse): Monte Carlo draws, and the
    # shipped sourcing problem and projects shown on the Sourcing and Investment pages.
    draws: int = 2000
    sourcing_problem: str | None = "ndfeb_magnets"
    projects: tuple[str, ...] = ("lioh_refinery", "ndpr_separation")
    analyses_cached: int = 4

    def __post_init__(self) -> None:
        object.__setattr__(self, "allowed_hosts", tuple(normalise_host(h) for h in self.allowed_hosts))

    @classmethod
    def from_env(
        cls,
        host: str = "127.0.0.1",
        port: int = 8000,
        workspace: Path | None = None,
        allowed_hosts: Iterable[str] = (),
    ) -> WebSettings:
        """Settings from the command line plus ``CRITMIN_TOKEN``, ``CRITMIN_MAX_UPLOAD_BYTES`` and
        ``CRITMIN_ALLOWED_HOSTS`` (comma-separated names, added to ``allowed_hosts``)."""
        token = os.environ.get(TOKEN_ENV) or None
        limit = int(os.environ.get("CRITMIN_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES))
        configured = [h for h in os.environ.get(ALLOWED_HOSTS_ENV, "").split(",") if h.strip()]
        return cls(
            host=host,
            port=port,
            token=token,
            workspace=workspace,
            max_upload_bytes=limit,
            allowed_hosts=(*allowed_hosts, *configured),
        )


def normalise_host(name: str) -> str:
    """A host name as compared: lower case, no brackets around IPv6, no trailing dot."""
    text = name.strip().lower()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return text.rstrip(".")


def split_host_header(value: str) -> str | None:
    """The name in a Host header (``name``, ``name:port``, ``[v6]`` or ``[v6]:port``); None if malformed."""
    text = value.strip()
    if text.startswith("["):
        end = text.find("]")
        rest = text[end + 1 :] if end > 0 else "x"
        if rest and not (rest.startswith(":") and rest[1:].isdigit()):
            return None
        return normalise_host(text[1:end])
    name, sep, port = text.rpartition(":")
    if not sep:
        name = text
    elif not port.isdigit():
        return None
    if not name or any(c in name for c in "/\\@ :"):
        return None
    return normalise_host(name)


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def host_allowed(header: str, settings: WebSettings) -> bool:
    """Whether a request's Host header names this server, which is what defeats DNS rebinding.

    Accepted: ``localhost`` and loopback addresses; the address the server is bound to; when it is bound
    to every interface (0.0.0.0 or ::), any IP address, since rebinding needs a domain name; and the names
    in ``settings.allowed_hosts``. Any port.
    """
    name = split_host_header(header)
    if not name:
        return False
    if name in LOOPBACK_NAMES or (_is_ip(name) and ipaddress.ip_address(name).is_loopback):
        return True
    bound = normalise_host(settings.host)
    if name == bound or (bound in WILDCARD_BINDS and _is_ip(name)):
        return True
    return name in settings.allowed_hosts


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
