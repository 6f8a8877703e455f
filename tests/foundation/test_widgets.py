"""Select widgets written in Python (`policyhub.widgets`) write exactly Django's markup, escaped."""

import pytest
from django import forms
from django.utils.translation import gettext_lazy

from briefs.coverage_forms import CoverageCheckForm
from payers.models import Payer
from policyhub.widgets import QuickSelect
from tests import factories

CHOICES = [
    ("", "Any"),
    ("aetna", "Aetna"),
    ("<b>\"x\"&'y'", "<script>alert('label')</script> & co"),
    (7, gettext_lazy("Lazy label")),
]
GROUPED = [("North", [("a", "A"), ("b", "B")]), ("c", "C"), ("<South>", [("d", "D & E")])]


@pytest.mark.parametrize("choices", [CHOICES, GROUPED, []], ids=["flat", "groups", "none"])
@pytest.mark.parametrize("value", [None, "aetna", "<b>\"x\"&'y'", 7, "b", "d"])
@pytest.mark.parametrize(
    "attrs", [None, {"id": "id_payer", "required": True, "disabled": False, "data-note": 'say "hi" <now>'}]
)
def test_a_quick_select_writes_what_djangos_select_writes(choices, value, attrs):
    expected = forms.Select(choices=choices).render("payer", value, attrs)
    assert QuickSelect(choices=choices).render("payer", value, attrs) == expected


def test_labels_and_values_are_escaped():
    html = QuickSelect(choices=CHOICES).render("payer", None)
    assert "<script>" not in html and "&lt;script&gt;alert(&#x27;label&#x27;)&lt;/script&gt; &amp; co" in html
    assert 'value="&lt;b&gt;&quot;x&quot;&amp;&#x27;y&#x27;"' in html


@pytest.mark.django_db
def test_the_coverage_check_forms_payers_are_the_menu_it_always_showed():
    """Its payers read as (slug, name) pairs render as Django's own ModelChoiceField rendered them,
    and a slug still cleans to the payer."""
    for name in ("Zeta Health", "Aetna", "Blue <Cross> & Shield"):
        factories.PayerFactory(name=name)

    class Before(forms.Form):
        payer = forms.ModelChoiceField(queryset=Payer.objects.order_by("name"), to_field_name="slug", empty_label=None)

    form = CoverageCheckForm(code="93590")
    assert str(form["payer"]) == str(Before()["payer"])
    assert str(form["payer"]).count("<option") == 3
    chosen = Payer.objects.get(name="Aetna")
    form = CoverageCheckForm({"payer": chosen.slug, "date_of_service": "2026-01-05"}, code="93590")
    assert form.is_valid(), form.errors
    assert form.cleaned_data["payer"] == chosen
    assert not CoverageCheckForm({"payer": "nobody", "date_of_service": "2026-01-05"}, code="93590").is_valid()
