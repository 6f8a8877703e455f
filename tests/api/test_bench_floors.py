"""`make bench-scale` and `make bench-api` are runnable, and the floors fetch the rows the API
returns, in its order (a floor of other rows would make the comparison meaningless)."""

import pytest
from django.db import connection

from bench.reads.requests import REQUESTS, Facts
from bench.scale.__main__ import parse_args

FLOORS = [
    ("/api/v1/coverage-criteria/", "/bench/floor/criteria/"),
    ("/api/v1/coverage-criteria/?code=93590", "/bench/floor/criteria/?code=93590"),
    ("/api/v1/coverage-criteria/?effective_on=2025-06-01", "/bench/floor/criteria/?effective_on=2025-06-01"),
    ("/api/v1/codes/", "/bench/floor/codes/"),
    ("/api/v1/documentation-requirements/", "/bench/floor/requirements/"),
    ("/api/v1/gaps/", "/bench/floor/gaps/"),
    ("/api/v1/gaps/?status=open", "/bench/floor/gaps/?status=open"),
    ("/api/v1/payers/", "/bench/floor/payers/"),
]


def test_scale_data_set_goes_to_a_postgresql_scratch_database(capsys):
    assert parse_args(["--criteria", "1000"]).database_url.endswith("/ph_scale_1k")
    assert parse_args([]).database_url.endswith("/ph_scale_1m")
    with pytest.raises(SystemExit):
        parse_args(["--database-url", "sqlite:///bench.sqlite3"])
    assert "PostgreSQL database is needed" in capsys.readouterr().err


def test_every_request_has_a_path_on_both_data_sets():
    for criteria in (1_000, 1_000_000):
        facts = Facts(
            code="0001F",
            diagnosis="I10",
            payer="payer-000",
            criteria=criteria,
            requirements=criteria // 5,
            codes=20_188,
            cursor_deep="/api/v1/coverage-criteria/?cursor=abc",
        )
        for request in REQUESTS:
            path, floor = request.resolve(facts)
            assert path.startswith("/"), request.label
            assert floor is None or floor.startswith("/bench/floor/"), request.label
        assert facts.deep_page(criteria, 5000) == min(5000, criteria // 50)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the floors' SQL is PostgreSQL's")
@pytest.mark.parametrize(("api", "floor"), FLOORS)
def test_floors_return_the_api_rows_in_its_order(api_client, dataset, settings, api, floor):
    settings.ROOT_URLCONF = "bench.reads.urls"

    key = {"/api/v1/codes/": "code", "/api/v1/payers/": "slug"}.get(api, "id")

    def keys(body):
        return [row[key] for row in body["results"]]

    expected = keys(api_client.get(api).json())
    assert expected
    assert keys(api_client.get(floor).json()) == expected


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the floors' SQL is PostgreSQL's")
def test_code_detail_floor_fetches_every_section_of_the_brief(api_client, dataset, settings):
    settings.ROOT_URLCONF = "bench.reads.urls"
    api = api_client.get("/api/v1/codes/93590/").json()
    floor = api_client.get("/bench/floor/code-detail/?code=93590").json()

    identity = {
        "sites_of_service": lambda row: row["place_of_service"]["code"],
        "modifier_guidance": lambda row: row["modifier"],
        "related_codes": lambda row: (row["direction"], row["kind"], row["code"]["code"]),
        "diagnosis_codes": lambda row: row["code"],
        "coverage": lambda row: (row["id"], row["payer"]["slug"], [d["code"] for d in row["diagnosis_codes"]]),
        "documentation_requirements": lambda row: (row["id"], row["policy"] and row["policy"]["id"]),
        "benchmarks": lambda row: row["id"],
        "open_gaps": lambda row: (row["id"], row["payer"] and row["payer"]["slug"]),
    }
    assert set(api) <= set(floor)
    assert floor["brief"]["title"] == api["brief"]["title"]
    for section, key in identity.items():
        assert api[section], section  # the demo's 93590 has every section
        assert sorted(map(repr, map(key, floor[section]))) == sorted(map(repr, map(key, api[section]))), section
