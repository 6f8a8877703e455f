"""A code's admin page lists its criteria inline, each with pickers for payer, policy and diagnoses.
Showing it and saving it cost the same statements however many criteria it lists:

- Django's pickers read their selection once each; here they label it from the rows the inline
  loaded with each criterion (`policyhub.widgets.HeldSelectionMixin`), and write what Django's write;
- Django validates every row sent back, changed or not; here a saved row sent back unchanged is not
  validated again (`CuratedInlineForm.full_clean`), as it is not saved again, while a changed one is;
- past `CuratedInline.rows_at_most` rows, an inline lists the first ones and links to all of them,
  and a save applies to the rows the page showed.
"""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from payers.models import CoverageCriterion
from policyhub import admin_inlines
from tests.factories import (
    BillingCodeFactory,
    CoverageCriterionFactory,
    DiagnosisCodeFactory,
    PayerFactory,
    PolicyDocumentFactory,
)
from tests.workflow.adminpages import form_data, inline_prefix, page_errors

pytestmark = pytest.mark.django_db
PICKER = re.compile(r'<select name="coverage_criteria-\d+-(?:payer|policy|diagnosis_codes)".*?</select>', re.S)


def code_with_criteria(code: str, how_many: int):
    billing_code = BillingCodeFactory(code=code)
    diagnoses = [DiagnosisCodeFactory(code=f"I3{n}{code[-1]}") for n in range(3)]
    for n in range(how_many):
        payer = PayerFactory(name=f"Payer {code} {n}", slug=f"payer-{code}-{n}")
        criterion = CoverageCriterionFactory(
            code=billing_code,
            payer=payer,
            policy=PolicyDocumentFactory(payer=payer, number=f"CPB {code}-{n}") if n % 2 == 0 else None,
            effective_start=dt.date(2024, 1, 1),
        )
        criterion.diagnosis_codes.set(diagnoses[: n % 3 + 1])
    return billing_code


def page(client, code) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/admin/codes/billingcode/{code.pk}/change/")
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def test_the_code_page_reads_as_much_for_eight_criteria_as_for_two(login, editor):
    """Before, each criterion's pickers added three or four statements (a code with 50 criteria ran
    217 statements, 0.77 s at 1M criteria; now 16)."""
    client = login(editor)
    two = code_with_criteria("93501", 2)
    page(client, two)  # the first page of a process also reads content types, once
    _html, few = page(client, two)
    html, many = page(client, code_with_criteria("93502", 8))
    assert len(PICKER.findall(html)) == 3 * 8
    assert many == few


def test_every_picker_writes_what_djangos_writes(login, editor, monkeypatch):
    """The same selects, options, labels and selection as Django's own widgets, which query."""
    client = login(editor)
    code = code_with_criteria("93503", 5)
    held, _ = page(client, code)
    monkeypatch.setattr(admin_inlines, "held_rows", lambda instance, name: None)  # Django's queries
    queried, _ = page(client, code)
    pickers = PICKER.findall(held)
    assert len(pickers) == 15
    # Five payers, three policies, and one to three diagnoses per criterion.
    assert sum(picker.count(" selected>") for picker in pickers) == 5 + 3 + (1 + 2 + 3 + 1 + 2)
    assert "CPB 93503-0: Policy" in held and ">I30.3 Diagnosis" in held
    assert pickers == PICKER.findall(queried)


def save(client, code, **changes):
    url = f"/admin/codes/billingcode/{code.pk}/change/"
    data = form_data(client.get(url), _continue="Save and continue editing", **changes)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(url, data)
    return response, len(queries)


def test_saving_the_code_page_reads_as_much_for_eight_criteria_as_for_two(login, editor):
    """A curator changes the code's descriptor on a page listing its criteria: the rows sent back
    unchanged are neither validated again nor saved (before, about 20 statements a row: 1,059 for a
    code with 50 criteria at 1M, 0.72 s; now 51, 0.18 s)."""
    client = login(editor)
    two, eight = code_with_criteria("93501", 2), code_with_criteria("93502", 8)
    versions = dict(CoverageCriterion.objects.values_list("pk", "version"))
    response, few = save(client, two, short_descriptor="Two criteria")
    assert response.status_code == 302, page_errors(response)
    response, many = save(client, eight, short_descriptor="Eight criteria")
    assert response.status_code == 302, page_errors(response)
    assert many == few
    eight.refresh_from_db()
    assert eight.short_descriptor == "Eight criteria"
    assert dict(CoverageCriterion.objects.values_list("pk", "version")) == versions  # no criterion saved


def test_a_changed_row_is_still_checked_and_saved(login, editor):
    """Among unchanged rows, the one a curator edits is validated (a period ending before it starts
    is refused, naming the field) and, once valid, saved."""
    client = login(editor)
    code = code_with_criteria("93504", 4)
    prefix = inline_prefix(client.get(f"/admin/codes/billingcode/{code.pk}/change/"), CoverageCriterion)
    response, _ = save(client, code, **{f"{prefix}-1-effective_end": "2023-06-30"})
    assert response.status_code == 200
    assert "effective" in page_errors(response).lower()
    response, _ = save(client, code, **{f"{prefix}-1-effective_end": "2024-06-30"})
    assert response.status_code == 302, page_errors(response)
    ends = CoverageCriterion.objects.filter(code=code).values_list("effective_end", flat=True)
    assert dt.date(2024, 6, 30) in list(ends)


def test_a_page_lists_its_first_rows_and_links_to_all(login, editor, monkeypatch):
    """Past `rows_at_most` rows, the page lists the first ones and links to the list of all of them
    (a code with 600 criteria took 5.6 s and 5.4 MB of HTML to show; its first 50: 0.6 s)."""
    monkeypatch.setattr(admin_inlines.CuratedInline, "rows_at_most", 3)
    client = login(editor)
    code = code_with_criteria("93505", 5)
    html, _ = page(client, code)
    assert len([p for p in PICKER.findall(html) if "-payer" in p]) == 3
    link = f'/admin/payers/coveragecriterion/?code__id__exact={code.pk}"'
    assert f'Coverage criteria: the first 3, <a href="{link}>all of them</a>' in html
    listed = client.get(link.rstrip('"'))
    assert listed.status_code == 200
    assert listed.context["cl"].result_count == 5
    small, _ = page(client, code_with_criteria("93506", 3))
    assert "the first 3" not in small


def test_saving_a_page_of_first_rows_saves_the_rows_it_showed(login, editor, monkeypatch):
    """A criterion added meanwhile that sorts first does not shift the rows a curator's save applies to."""
    monkeypatch.setattr(admin_inlines.CuratedInline, "rows_at_most", 3)
    client = login(editor)
    code = code_with_criteria("93507", 5)
    url = f"/admin/codes/billingcode/{code.pk}/change/"
    opened = client.get(url)
    prefix = inline_prefix(opened, CoverageCriterion)
    (criteria,) = [i.formset for i in opened.context["inline_admin_formsets"] if i.formset.model is CoverageCriterion]
    edited = criteria.forms[1].instance
    newcomer = CoverageCriterionFactory(code=code, payer=PayerFactory(name="AAA Health", slug="aaa"))
    data = form_data(opened, _continue="Save and continue editing", **{f"{prefix}-1-effective_end": "2024-06-30"})
    response = client.post(url, data)
    assert response.status_code == 302, page_errors(response)
    saved = CoverageCriterion.objects.filter(code=code, payer=edited.payer, effective_end=dt.date(2024, 6, 30))
    assert saved.exists()
    newcomer_now = CoverageCriterion.objects.get(pk=newcomer.pk)
    assert (newcomer_now.version, newcomer_now.effective_end) == (newcomer.version, newcomer.effective_end)
