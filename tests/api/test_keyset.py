"""Cursor walks page by keyset: every row exactly once, rows edited meanwhile included, at full size."""

import pytest
from django.core import signing
from django.db import connection
from django.test.utils import CaptureQueriesContext

from codes.models import BillingCode, DiagnosisCode
from policyhub.api_pagination import CURSOR_SALT
from tests.api.helpers import RESOURCES, list_url
from tests.imports.conftest import run

pytestmark = pytest.mark.django_db


def walk(client, url: str, *, on_page=None) -> tuple[list[dict], list[dict]]:
    """Follow `next` from `url`; returns the rows and the page bodies (without results)."""
    rows, pages = [], []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content[:300]
        body = response.json()
        assert "count" not in body
        assert int(response["X-Change-Position"]) == body["change_position"]
        rows += body["results"]
        pages.append({key: value for key, value in body.items() if key != "results"})
        if on_page:
            on_page(len(pages))
        url = body["next"]
    return rows, pages


@pytest.mark.parametrize("basename", RESOURCES)
def test_cursor_walk_lists_every_row_once(api_client, dataset, basename):
    """On every collection, `cursor=` and `next` list each row the page-number list has, once."""
    field = RESOURCES[basename][1]
    rows, _ = walk(api_client, f"{list_url(basename)}?cursor=&page_size=2")
    everything = api_client.get(list_url(basename), {"page_size": 500}).json()["results"]
    assert sorted(str(row[field]) for row in rows) == sorted(str(row[field]) for row in everything)
    assert len(rows) == len({str(row[field]) for row in rows})


def test_cursor_keeps_the_filters(api_client, dataset):
    """A filtered walk stays filtered on every page."""
    rows, _ = walk(api_client, "/api/v1/coverage-criteria/?cursor=&page_size=1&payer=medicare")
    assert rows and {row["payer"]["slug"] for row in rows} == {"medicare"}


@pytest.mark.parametrize(
    ("cursor", "message"),
    [
        ("not-a-cursor", "Not a cursor this server issued."),
        (signing.dumps({"s": "/api/v1/codes/|id", "k": [1]}, salt="another salt"), "Not a cursor this server issued."),
        (signing.dumps({"s": "/api/v1/payers/|id", "k": [1]}, salt=CURSOR_SALT), "belongs to another collection"),
        (signing.dumps({"s": "/api/v1/codes/|id", "k": [1, 2]}, salt=CURSOR_SALT), "belongs to another collection"),
    ],
    # Signed values carry the time they were signed: test processes must name the cases alike.
    ids=["garbage", "signed-elsewhere", "another-collection", "another-ordering"],
)
def test_bad_cursor_answers_400_naming_it(api_client, dataset, cursor, message):
    """A malformed, forged or foreign cursor answers 400 with the error body naming `cursor`."""
    response = api_client.get("/api/v1/codes/", {"cursor": cursor})
    assert response.status_code == 400
    assert message in response.json()["errors"]["cursor"][0]


def test_expired_cursor_answers_400(api_client, dataset, monkeypatch):
    """A cursor older than a week must be started again."""
    first = api_client.get("/api/v1/codes/", {"cursor": "", "page_size": 1}).json()
    monkeypatch.setattr("policyhub.api_pagination.CURSOR_MAX_AGE", -1)
    response = api_client.get(first["next"])
    assert response.status_code == 400
    assert "expired" in response.json()["errors"]["cursor"][0]


def test_page_reads_by_key_without_offset(api_client, dataset):
    """A later page is read through the key (`id > last`), never by skipping rows."""
    first = api_client.get("/api/v1/diagnosis-codes/", {"cursor": "", "page_size": 1}).json()
    with CaptureQueriesContext(connection) as queries:
        api_client.get(first["next"])
    page_query = next(q["sql"] for q in queries if "codes_diagnosiscode" in q["sql"] and "LIMIT" in q["sql"])
    assert "OFFSET" not in page_query
    assert '"codes_diagnosiscode"."id" >' in page_query


def _edit(model, field: str, ids) -> None:
    for row in model.objects.filter(id__in=ids):
        setattr(row, field, getattr(row, field) + " (edited)")
        row.save()


def test_rows_edited_during_the_walk_are_not_skipped(api_client, dataset):
    """Saving rows already delivered and rows still ahead moves none of them out of the walk."""
    ids = list(DiagnosisCode.objects.order_by("id").values_list("id", flat=True))
    rows, _ = walk(
        api_client,
        "/api/v1/diagnosis-codes/?cursor=&page_size=1",
        on_page=lambda page: _edit(DiagnosisCode, "description", [ids[0], ids[-1]]) if page == 1 else None,
    )
    assert [row["code"] for row in rows] == list(DiagnosisCode.objects.order_by("id").values_list("code", flat=True))
    assert rows[-1]["description"].endswith("(edited)")


@pytest.mark.full_release
def test_full_icd10cm_release_walks_every_code_exactly_once(api_client):
    """The whole bundled FY2026 release (98,186 codes, about 50 shared import timestamps), walked in
    pages of 500 while codes are edited: each code is delivered exactly once."""
    run("import_icd10cm")
    assert DiagnosisCode.objects.count() == 98186
    ids = list(DiagnosisCode.objects.order_by("id").values_list("id", flat=True))

    def edit(page: int):
        if page % 20 == 0:  # two codes already delivered, two still ahead
            _edit(DiagnosisCode, "description", [ids[page * 500 - 1], ids[page * 500 - 2], ids[-page], ids[-page - 1]])

    rows, _ = walk(api_client, "/api/v1/diagnosis-codes/?cursor=&page_size=500", on_page=edit)
    codes = [row["code"] for row in rows]
    assert len(codes) == len(set(codes)) == 98186
    assert DiagnosisCode.objects.filter(description__endswith="(edited)").exists()


@pytest.mark.shared_data
def test_hcpcs_release_walks_every_code_once(api_client, shared_data):
    """After the January 2026 HCPCS import, thousands of codes share one `updated_at`; the codes
    walk still delivers each once and ends."""
    run("import_hcpcs", shared_data / "hcpcs_2026_jan.csv")
    shared = BillingCode.objects.values("updated_at").order_by().distinct().count()
    total = BillingCode.objects.count()
    assert total > 2000 and shared < total / 2000 + 5
    rows, pages = walk(api_client, "/api/v1/codes/?cursor=&page_size=500")
    codes = [row["code"] for row in rows]
    assert len(codes) == len(set(codes)) == total
    assert pages[-1]["next"] is None
