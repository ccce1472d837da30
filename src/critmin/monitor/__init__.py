"""Policy monitor: follow the Federal Register (and Census trade statistics), keep a legal calendar, and turn
each new document into an alert that says which ledger lines it touches and what it changes in dollars.

Typical use::

    from critmin.monitor import FederalRegisterClient, load_watchlist, run_monitor
    from critmin.workspace import Workspace

    with Workspace.open(create=True) as ws, FederalRegisterClient() as client:
        report = run_monitor(ws, load_watchlist(Path("watch.yaml")), client=client, ledger=ledger)
"""

from critmin.monitor.alerts import DutyModel, LedgerContext, MeasureChange, build_alerts, payloads
from critmin.monitor.census import CensusTradeClient, ImportsQuery
from critmin.monitor.deadlines import deadline_alerts, deadline_events, protest_deadlines
from critmin.monitor.deliver import EmailChannel, WebhookChannel, channels_from, deliver_pending
from critmin.monitor.digest import DigestFormat, atom_feed, render
from critmin.monitor.errors import (
    DeliveryError,
    EventsFileError,
    FeedError,
    FeedHTTPError,
    FeedTimeoutError,
    MalformedResponseError,
    PagingLoopError,
    WatchlistError,
)
from critmin.monitor.fedreg import DocumentQuery, FederalRegisterClient, PublicInspectionQuery
from critmin.monitor.http import JsonClient, RetryPolicy
from critmin.monitor.impact import EngineDutyModel
from critmin.monitor.match import extract_mentions
from critmin.monitor.runner import RunReport, load_ledger, run_monitor, write_feed
from critmin.monitor.store import MonitorStore
from critmin.monitor.timeline import Event, all_events, shipped_events, timeline
from critmin.monitor.watchlist import Watchlist, load_watchlist, parse_watchlist

__all__ = [
    "CensusTradeClient",
    "DeliveryError",
    "DigestFormat",
    "DocumentQuery",
    "DutyModel",
    "EmailChannel",
    "EngineDutyModel",
    "Event",
    "EventsFileError",
    "FederalRegisterClient",
    "FeedError",
    "FeedHTTPError",
    "FeedTimeoutError",
    "ImportsQuery",
    "JsonClient",
    "LedgerContext",
    "MalformedResponseError",
    "MeasureChange",
    "MonitorStore",
    "PagingLoopError",
    "PublicInspectionQuery",
    "RetryPolicy",
    "RunReport",
    "Watchlist",
    "WatchlistError",
    "WebhookChannel",
    "all_events",
    "atom_feed",
    "build_alerts",
    "channels_from",
    "deadline_alerts",
    "deadline_events",
    "deliver_pending",
    "extract_mentions",
    "load_ledger",
    "load_watchlist",
    "parse_watchlist",
    "payloads",
    "protest_deadlines",
    "render",
    "run_monitor",
    "shipped_events",
    "timeline",
    "write_feed",
]
