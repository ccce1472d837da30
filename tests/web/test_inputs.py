"""Inputs of the analysis from the web: scenario parameters, the simulation, a sourcing problem, a project.

Each endpoint is tried with a good input (the views then show what the library computes from it) and with
bad ones (a 4xx whose body lists every problem with its field and fix). The forms are checked too: a refused
value comes back beside its field.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from critmin.duty import evaluate
from critmin.ledger.ingest import ImportResult
from critmin.paths import SAMPLES_DIR
from critmin.policy import load_scenario
from critmin.web.app import create_app
from critmin.web.ingest import YAML_MAX_BYTES
from critmin.web.settings import WebSettings

from .conftest import TREE

AS_OF = date(2027, 1, 1)  # on or after every shipped scenario's start
DRAWS = 200
SCENARIO = "s232_tariff_non_partners"
PARAMETERS = f"/api/v1/inputs/parameters/{SCENARIO}"

BROKEN_PROJECT = """\
name: My refinery
product: lithium hydroxide
capacity_per_year: lots
"""


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory,
    make_settings: Callable[..., WebSettings],
    csrf: Callable[[TestClient], str],
) -> Iterator[TestClient]:
    """A workspace with the sample ledger; every test leaves the inputs as it found them."""
    workspace = tmp_path_factory.mktemp("inputs") / "workspace.duckdb"
    with TestClient(create_app(make_settings(workspace, draws=DRAWS))) as c:
        done = c.post("/ledger/sample", data={"name": "defense_prime", "csrf_token": csrf(c)})
        assert done.status_code == 200
        c.headers["X-CSRF-Token"] = csrf(c)
        yield c


@pytest.fixture
def fresh(client: TestClient) -> Iterator[TestClient]:
    yield client
    client.put(PARAMETERS, json={"set": {}})
    client.post("/api/v1/inputs/simulation", data={"draws": str(DRAWS), "tree": "pcmdp_after_window"})
    client.delete("/api/v1/inputs/sourcing")
    client.delete("/api/v1/inputs/projects")


def yaml_file(name: str, text: str) -> dict[str, Any]:
    return {"file": (name, text.encode(), "application/yaml")}


def scenario_duty(client: TestClient, scenario: str) -> tuple[float, date]:
    body = client.get("/api/v1/scenarios", params={"as_of": AS_OF.isoformat()}).json()
    run = next(r for r in body["scenarios"] if r["id"] == scenario)
    return run["duty"], date.fromisoformat(run["eval_date"])


def element(page: str, id: str) -> str | None:
    """The markup of the element with this id, up to its closing tag (the pages' lists and inputs)."""
    found = re.search(rf'<(\w+)[^>]*\bid="{re.escape(id)}"[^>]*>', page)
    if found is None:
        return None
    end = page.find(f"</{found.group(1)}>", found.end())
    return found.group(0) if found.group(1) == "input" else page[found.start() : end]


def text_of(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def problems_of(response: Any) -> list[dict[str, Any]]:
    body = response.json()
    assert body["detail"] and body["problems"], body
    for p in body["problems"]:
        assert set(p) == {"file", "line", "field", "message", "fix"}
        assert p["message"] and p["fix"]
    problems: list[dict[str, Any]] = body["problems"]
    return problems


class TestInputs:
    def test_defaults_are_the_servers_settings(self, client: TestClient) -> None:
        body = client.get("/api/v1/inputs").json()
        assert body["draws"] == DRAWS
        assert body["tree"] == "pcmdp_after_window" and body["tree_file"] is None
        assert body["sourcing"] == "ndfeb_magnets" and not body["sourcing_uploaded"]
        assert body["projects"] == ["lioh_refinery", "ndpr_separation"] and not body["projects_uploaded"]
        s232 = next(p for p in body["parameters"] if p["scenario"] == SCENARIO)
        assert s232["values"]["rate"] == "0.25" and s232["overrides"] == []


class TestScenarioParameters:
    def test_a_rate_in_percent_changes_the_scenario_duty(
        self, fresh: TestClient, sample_ledger: ImportResult
    ) -> None:
        before, _ = scenario_duty(fresh, SCENARIO)
        response = fresh.put(PARAMETERS, json={"set": {"rate": "40%"}})
        assert response.status_code == 200, response.text
        s232 = next(p for p in response.json()["parameters"] if p["scenario"] == SCENARIO)
        assert s232["values"]["rate"] == "0.4" and s232["overrides"] == ["rate=40%"]
        after, when = scenario_duty(fresh, SCENARIO)
        engine = evaluate(sample_ledger.lines, load_scenario(SCENARIO, ["rate=0.4"]), as_of=when)
        assert after == pytest.approx(float(engine.totals()["duty"]))
        assert after > before

    def test_a_fraction_is_the_same_as_a_percentage(self, fresh: TestClient) -> None:
        fresh.put(PARAMETERS, json={"set": {"rate": "40%"}})
        in_percent, _ = scenario_duty(fresh, SCENARIO)
        assert fresh.put(PARAMETERS, json={"set": {"rate": 0.4}}).status_code == 200
        assert scenario_duty(fresh, SCENARIO)[0] == pytest.approx(in_percent)

    def test_an_empty_set_restores_the_files_values(self, fresh: TestClient) -> None:
        before, _ = scenario_duty(fresh, SCENARIO)
        fresh.put(PARAMETERS, json={"set": {"rate": "40%"}})
        assert fresh.put(PARAMETERS, json={"set": {}}).status_code == 200
        assert scenario_duty(fresh, SCENARIO)[0] == pytest.approx(before)

    @pytest.mark.parametrize(
        ("values", "field", "words"),
        [
            ({"rate": "40"}, "rate", "40%"),
            ({"rate": 40}, "rate", "40%"),
            ({"rate": "abc"}, "rate", "number"),
            ({"start_date": "2027-13-01"}, "start_date", "YYYY-MM-DD"),
            ({"rat": "0.3"}, "rat", "rate"),
        ],
    )
    def test_a_bad_value_is_a_400_naming_the_parameter(
        self, fresh: TestClient, values: dict[str, Any], field: str, words: str
    ) -> None:
        before = fresh.get("/api/v1/inputs").json()
        response = fresh.put(PARAMETERS, json={"set": values})
        assert response.status_code == 400
        problems = problems_of(response)
        assert {p["field"] for p in problems} == {field}
        assert any(words in p["message"] + p["fix"] for p in problems)
        assert "/" not in response.json()["detail"]  # the scenario by id, not the server's path
        assert fresh.get("/api/v1/inputs").json() == before

    def test_an_unknown_scenario_is_refused(self, fresh: TestClient) -> None:
        assert fresh.put("/api/v1/inputs/parameters/status_quo", json={"set": {}}).status_code == 422
        assert fresh.put("/api/v1/inputs/parameters/..%2Fetc", json={"set": {}}).status_code in (404, 422)

    def test_without_the_csrf_token_nothing_changes(self, client: TestClient) -> None:
        response = client.put(PARAMETERS, json={"set": {"rate": "40%"}}, headers={"X-CSRF-Token": "wrong"})
        assert response.status_code == 403
        s232 = next(p for p in client.get("/api/v1/inputs").json()["parameters"] if p["scenario"] == SCENARIO)
        assert s232["overrides"] == []

    def test_the_form_shows_a_refused_value_beside_its_field(
        self, fresh: TestClient, csrf: Callable[[TestClient], str]
    ) -> None:
        response = fresh.post(
            f"/scenarios/parameters/{SCENARIO}?as_of={AS_OF.isoformat()}",
            data={"csrf_token": csrf(fresh), "rate": "40", "derivative_rate": "0.25"},
        )
        assert response.status_code == 400
        field = element(response.text, f"param-{SCENARIO}-rate")
        assert field is not None and 'value="40"' in field and 'aria-invalid="true"' in field
        problem = element(response.text, f"problem-{SCENARIO}-rate")
        assert problem is not None and "write 40% or 0.40" in text_of(problem)
        assert element(response.text, f"problem-{SCENARIO}-derivative_rate") is None

    def test_the_form_applies_a_good_value_and_returns_to_the_page(
        self, fresh: TestClient, csrf: Callable[[TestClient], str]
    ) -> None:
        response = fresh.post(
            f"/scenarios/parameters/{SCENARIO}?as_of={AS_OF.isoformat()}",
            data={"csrf_token": csrf(fresh), "rate": "35%", "derivative_rate": "0.25"},
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert (
            response.headers["location"]
            == f"/scenarios?ledger=1&as_of={AS_OF.isoformat()}#parameters-{SCENARIO}"
        )
        s232 = next(p for p in fresh.get("/api/v1/inputs").json()["parameters"] if p["scenario"] == SCENARIO)
        assert s232["overrides"] == ["rate=35%"]  # an unchanged field is not an override


class TestSimulation:
    def test_an_uploaded_tree_runs_with_the_chosen_draws(self, fresh: TestClient) -> None:
        response = fresh.post(
            "/api/v1/inputs/simulation", data={"draws": "300"}, files=yaml_file("my tree.yaml", TREE)
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["tree"], body["tree_file"], body["draws"]) == ("my_two_branches", "my tree.yaml", 300)
        numbers = fresh.get("/api/v1/summary", params={"as_of": AS_OF.isoformat()}).json()["numbers"]
        assert numbers["simulation"]["draws"] == 300
        assert numbers["simulation"]["tree_title"] == "My two branches for 2027"
        branches = fresh.get("/api/v1/simulation", params={"as_of": AS_OF.isoformat()}).json()["branches"]
        assert branches["total_rows"] == 2

    def test_a_shipped_tree_by_id(self, fresh: TestClient) -> None:
        response = fresh.post("/api/v1/inputs/simulation", data={"draws": "100", "tree": "pcmdp_window_2026"})
        assert response.status_code == 200
        assert (response.json()["tree"], response.json()["draws"]) == ("pcmdp_window_2026", 100)

    @pytest.mark.parametrize("draws", ["-1", "50001"])
    def test_draws_out_of_range(self, fresh: TestClient, draws: str) -> None:
        response = fresh.post("/api/v1/inputs/simulation", data={"draws": draws})
        assert response.status_code == 400
        assert [p["field"] for p in problems_of(response)] == ["draws"]

    def test_a_broken_tree_names_file_line_and_field(self, fresh: TestClient) -> None:
        broken = TREE.replace("probability: 0.5\n      - id: tariff", "probability: 0.7\n      - id: tariff")
        response = fresh.post(
            "/api/v1/inputs/simulation", data={"draws": "100"}, files=yaml_file("broken.yaml", broken)
        )
        assert response.status_code == 400
        (problem,) = problems_of(response)
        assert (problem["file"], problem["line"], problem["field"]) == ("broken.yaml", 8, "tree.root")
        assert "1.2" in problem["message"]
        assert fresh.get("/api/v1/inputs").json()["tree_file"] is None


class TestSourcing:
    def test_an_uploaded_problem_is_optimised(self, fresh: TestClient) -> None:
        data = yaml.safe_load((SAMPLES_DIR / "sourcing" / "ndfeb_magnets.yaml").read_text())
        data["name"] = "Our magnets"
        response = fresh.post("/api/v1/inputs/sourcing", files=yaml_file("ours.yaml", yaml.safe_dump(data)))
        assert response.status_code == 200, response.text
        assert response.json()["sourcing"] == "ours.yaml" and response.json()["sourcing_uploaded"]
        summary = fresh.get("/api/v1/sourcing", params={"as_of": AS_OF.isoformat()}).json()["summary"]
        assert summary["name"] == "Our magnets"
        assert fresh.delete("/api/v1/inputs/sourcing").json()["sourcing"] == "ndfeb_magnets"

    def test_a_broken_problem_lists_every_field(self, fresh: TestClient) -> None:
        text = "name: Ours\noptions: 3\n"
        response = fresh.post("/api/v1/inputs/sourcing", files=yaml_file("ours.yaml", text))
        assert response.status_code == 400
        problems = {p["field"]: p for p in problems_of(response)}
        assert problems["options"]["line"] == 2 and problems["options"]["file"] == "ours.yaml"
        assert "demand" in problems  # a missing field is listed too, not only the first problem
        assert not fresh.get("/api/v1/inputs").json()["sourcing_uploaded"]

    def test_invalid_yaml_names_the_line(self, fresh: TestClient) -> None:
        response = fresh.post("/api/v1/inputs/sourcing", files=yaml_file("x.yaml", "name: a\n  b: [\n"))
        assert response.status_code == 400
        (problem,) = problems_of(response)
        assert problem["line"] == 2 and "YAML" in problem["message"]


class TestProjects:
    def test_an_uploaded_project_is_appraised(self, fresh: TestClient) -> None:
        data = yaml.safe_load((SAMPLES_DIR / "projects" / "lioh_refinery.yaml").read_text())
        data["name"] = "Our refinery"
        response = fresh.post("/api/v1/inputs/projects", files=yaml_file("ours.yaml", yaml.safe_dump(data)))
        assert response.status_code == 200, response.text
        assert response.json()["projects"] == ["Our refinery"] and response.json()["projects_uploaded"]
        results = fresh.get("/api/v1/investment", params={"as_of": AS_OF.isoformat()}).json()["results"]
        assert results["total_rows"] == 1
        assert "Our refinery" in str(results["rows"][0])
        assert not fresh.delete("/api/v1/inputs/projects").json()["projects_uploaded"]

    def test_a_broken_project_names_line_and_field(self, fresh: TestClient) -> None:
        response = fresh.post("/api/v1/inputs/projects", files=yaml_file("mine.yaml", BROKEN_PROJECT))
        assert response.status_code == 400
        problems = {p["field"]: p for p in problems_of(response)}
        assert problems["capacity_per_year"]["line"] == 3
        assert "number" in problems["capacity_per_year"]["message"]
        assert "add the field" in problems["stage"]["fix"]  # every problem, not only the first

    def test_the_form_shows_the_problems_beside_the_upload(
        self, fresh: TestClient, csrf: Callable[[TestClient], str]
    ) -> None:
        response = fresh.post(
            f"/investment/project?as_of={AS_OF.isoformat()}",
            data={"csrf_token": csrf(fresh)},
            files=yaml_file("mine.yaml", BROKEN_PROJECT),
        )
        assert response.status_code == 400
        problems = element(response.text, "project-form-problems")
        assert problems is not None
        assert '<li data-field="capacity_per_year" data-line="3">' in problems
        assert "mine.yaml, line 3" in text_of(problems)


class TestUploadSafety:
    @pytest.mark.parametrize("path", ["/api/v1/inputs/sourcing", "/api/v1/inputs/projects"])
    def test_aliases_are_refused(self, fresh: TestClient, path: str) -> None:
        bomb = "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n"
        response = fresh.post(path, files=yaml_file("bomb.yaml", bomb))
        assert response.status_code == 400
        assert "alias" in problems_of(response)[0]["message"]

    def test_a_file_over_the_limit_is_a_413(self, fresh: TestClient) -> None:
        big = "name: x\n" + "# padding\n" * (YAML_MAX_BYTES // 10 + 1)
        response = fresh.post("/api/v1/inputs/projects", files=yaml_file("big.yaml", big))
        assert response.status_code == 413
        assert "limit" in problems_of(response)[0]["message"]

    @pytest.mark.parametrize("body", [b"", b"\xff\xfe\x00binary"])
    def test_empty_or_binary_files(self, fresh: TestClient, body: bytes) -> None:
        response = fresh.post("/api/v1/inputs/projects", files={"file": ("x.yaml", body, "application/yaml")})
        assert response.status_code == 400
        problems_of(response)

    def test_no_uploaded_copy_is_left(self, fresh: TestClient) -> None:
        dash = fresh.app.state.dashboard  # type: ignore[attr-defined]
        fresh.post("/api/v1/inputs/projects", files=yaml_file("mine.yaml", BROKEN_PROJECT))
        fresh.post("/api/v1/inputs/simulation", data={"draws": "100"}, files=yaml_file("t.yaml", TREE))
        assert list(dash.uploads_dir.iterdir()) == []
