"""The Census international trade client against a local server serving a HAND-WRITTEN response in the
documented Census format (no recorded Census response exists; see data/README.md)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from critmin.monitor.census import ENV_KEY, CensusTradeClient, ImportsQuery
from critmin.monitor.errors import MalformedResponseError
from critmin.monitor.http import JsonClient, RetryPolicy

PATH = "/data/timeseries/intltrade/imports/hs"


def census(server: Any, sleep: Any, key: str | None = None) -> CensusTradeClient:
    http = JsonClient(retry=RetryPolicy(attempts=3), sleep=sleep, rand=lambda: 0.5)
    return CensusTradeClient(f"{server.url}/data", key=key, http=http)


def test_imports_parse_and_type(server: Any, no_sleep: Any, kit: Any) -> None:
    server.route(PATH, kit.Reply(200, (kit.DATA / "census-imports-handwritten.json").read_bytes()))
    frame = census(server, no_sleep, key="k123").imports(
        ImportsQuery(hts="8505.11.0070", start="2025-01", end="2025-03", cty_code="5700")
    )
    assert frame.height == 3
    assert frame.get_column("period").to_list() == [date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)]
    # hand-written values: 41,250,000 + 38,900,000 + 44,010,000 = 124,160,000
    assert frame.get_column("general_value_usd").sum() == 124_160_000.0
    assert frame.get_column("quantity").to_list() == [812_000.0, 769_500.0, 861_200.0]
    assert set(frame.get_column("hts")) == {"8505110070"} and set(frame.get_column("hts_level")) == {"HS10"}
    assert set(frame.get_column("country")) == {"CHN"}  # Census 5700 joined to ISO3 through refdata
    request = server.hits(PATH)[0]
    assert request.param("I_COMMODITY") == "8505110070"
    assert request.param("COMM_LVL") == "HS10"
    assert request.param("time") == "from 2025-01 to 2025-03"
    assert request.param("CTY_CODE") == "5700"
    assert request.param("key") == "k123"
    assert request.param("get", "").split(",")[:3] == ["CTY_CODE", "CTY_NAME", "I_COMMODITY"]


def test_key_is_optional_and_read_from_env(
    server: Any, no_sleep: Any, kit: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.route(PATH, kit.Reply(204, b""))
    monkeypatch.delenv(ENV_KEY, raising=False)
    frame = census(server, no_sleep).imports(ImportsQuery(hts="2805.30", start="2025-01", end="2025-12"))
    assert frame.height == 0  # 204 No Content = nothing matched, not an error
    assert server.hits(PATH)[0].param("key") is None
    monkeypatch.setenv(ENV_KEY, "from-env")
    census(server, no_sleep).imports(ImportsQuery(hts="280530", start="2025-01", end="2025-12"))
    assert server.hits(PATH)[1].param("key") == "from-env"
    assert server.hits(PATH)[1].param("COMM_LVL") == "HS6"


def test_ragged_row_is_rejected(server: Any, no_sleep: Any, kit: Any) -> None:
    server.route(
        PATH, kit.Reply(200, b'[["CTY_CODE","I_COMMODITY","GEN_VAL_MO","time"],["5700","8505110070","1"]]')
    )
    with pytest.raises(MalformedResponseError, match="row 2 has 3 values, the header has 4"):
        census(server, no_sleep).imports(ImportsQuery(hts="8505110070", start="2025-01", end="2025-01"))


def test_truncated_body_then_good(server: Any, no_sleep: Any, kit: Any) -> None:
    body = (kit.DATA / "census-imports-handwritten.json").read_bytes()
    server.route(PATH, kit.Reply(200, body))
    server.fault(PATH, kit.Reply(200, body[: len(body) // 2]), kit.Reply(500, b"error"))
    frame = census(server, no_sleep).imports(ImportsQuery(hts="8505110070", start="2025-01", end="2025-03"))
    assert frame.height == 3 and len(no_sleep.calls) == 2


def test_census_code_lookup() -> None:
    from critmin.monitor.census import census_code

    assert census_code("CHN") == "5700"
    assert census_code("Japan") == "5880"


def test_bad_query_is_refused_before_any_request() -> None:
    with pytest.raises(ValueError, match="HS2, HS4, HS6 or HS10"):
        ImportsQuery(hts="85051100", start="2025-01", end="2025-02")
    with pytest.raises(ValueError, match="YYYY-MM"):
        ImportsQuery(hts="850511", start="2025-1", end="2025-02")
