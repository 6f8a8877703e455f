"""The admin page of a code-set release shows what its import created, changed and terminated."""

import pytest
from django.urls import reverse

from codes.models import CodeSetRelease
from tests.imports.conftest import run

pytestmark = pytest.mark.django_db


@pytest.fixture
def fy2031(fixtures_dir):
    run("import_icd10cm", fixtures_dir / "icd10cm_order_2030.txt")
    run("import_icd10cm", fixtures_dir / "icd10cm_order_2031.txt")
    return CodeSetRelease.objects.get(name="ICD-10-CM FY2031")


def test_release_page_lists_the_codes_per_outcome(fy2031, staff_client):
    page = staff_client.get(reverse("admin:codes_codesetrelease_change", args=[fy2031.pk]))

    assert page.status_code == 200
    html = page.content.decode()
    assert "<h3>diagnosis codes</h3>" in html
    assert "diagnosis codes: " not in html
    assert "1 created, 1 updated, 1 with new descriptors, 8 unchanged, 1 terminated" in html
    assert "<dt>created (1)</dt><dd>QA00</dd>" in html
    assert "<dt>descriptor changes (1)</dt><dd>I340</dd>" in html
    assert "<dt>terminated (1)</dt><dd>Z9989</dd>" in html
    assert "<strong>rejected</strong>: 0" in html


def test_release_page_links_to_the_rows_it_created_or_last_changed(fy2031, staff_client):
    page = staff_client.get(reverse("admin:codes_codesetrelease_change", args=[fy2031.pk]))
    link = f"{reverse('admin:codes_diagnosiscode_changelist')}?release__id__exact={fy2031.pk}"
    assert link in page.content.decode()

    rows = staff_client.get(link)
    assert rows.status_code == 200
    shown = {code.code for code in rows.context["cl"].result_list}
    assert shown == {"QA00", "I340", "Z9989"}, "the FY2031 codes, not those FY2030 loaded unchanged"


def test_listed_codes_stop_at_the_cap_and_say_how_many_more(fixtures_dir, staff_client, monkeypatch):
    from codes.importers import releases

    monkeypatch.setattr(releases, "LISTED_KEYS", 4)
    run("import_icd10cm", fixtures_dir / "icd10cm_order_2030.txt")
    release = CodeSetRelease.objects.get()
    assert len(release.changes["diagnosis codes"]["keys"]["created"]) == 4
    page = staff_client.get(reverse("admin:codes_codesetrelease_change", args=[release.pk]))
    assert "… and 6 more" in page.content.decode()


def test_release_page_links_only_to_rows_that_record_the_release(fixtures_dir, staff_client):
    """The fee schedule updates codes without becoming their release: no link that would list nothing."""
    run("import_rvu", fixtures_dir / "pfs_rvu_2024_jul_fixture.csv")
    release = CodeSetRelease.objects.get(kind="rvu")
    html = staff_client.get(reverse("admin:codes_codesetrelease_change", args=[release.pk])).content.decode()

    assert "<h3>billing codes</h3>" in html and "<h3>benchmarks</h3>" in html
    assert "The billing codes this release created or last changed" not in html
    assert f"{reverse('admin:payers_benchmark_changelist')}?release__id__exact={release.pk}" in html
