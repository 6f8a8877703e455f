"""The "check an order" form staff fill in on a code's brief page."""

import re

from django import forms
from django.utils import timezone

from briefs.coverage_facts import CoverageInputError, CoverageQuestion, OrderItem
from payers.models import Payer
from policyhub.widgets import QuickSelect

SEPARATORS = re.compile(r"[\s,;]+")


def _codes(text: str) -> tuple[str, ...]:
    return tuple(code for code in SEPARATORS.split(text.strip()) if code)


class CoverageCheckForm(forms.Form):
    # Every payer is an option: read as (slug, name) pairs and written without a template per
    # option (policyhub.widgets), not as 300 payer instances read twice through two templates each.
    payer = forms.ModelChoiceField(
        queryset=Payer.objects.order_by("name"), to_field_name="slug", empty_label=None, widget=QuickSelect
    )
    date_of_service = forms.DateField(label="Date of service", widget=forms.DateInput(attrs={"type": "date"}))
    diagnosis_codes = forms.CharField(
        label="Diagnosis codes", required=False, max_length=200, help_text="ICD-10-CM, e.g. I34.0 T82.09"
    )
    place_of_service = forms.CharField(label="Place of service", required=False, max_length=2, help_text="E.g. 22")
    other_codes = forms.CharField(
        label="Other codes on the order", required=False, max_length=100, help_text="E.g. the primary of an add-on"
    )

    def __init__(self, *args, code: str, **kwargs):
        kwargs.setdefault("initial", {"date_of_service": timezone.localdate()})
        super().__init__(*args, **kwargs)
        self.code = code
        self.fields["payer"].choices = list(self.fields["payer"].queryset.values_list("slug", "name"))

    def question(self) -> CoverageQuestion:
        data = self.cleaned_data
        codes = (self.code, *_codes(data["other_codes"]))
        return CoverageQuestion(
            payer=data["payer"],
            service_date=data["date_of_service"],
            items=tuple(OrderItem(code=code) for code in codes),
            diagnosis_codes=_codes(data["diagnosis_codes"]),
            place_of_service=data["place_of_service"].strip(),
        )

    def refuse(self, error: CoverageInputError) -> None:
        """Show the service's refusals on the fields the staff member typed them in."""
        for path, messages in error.errors.items():
            if path.startswith("diagnosis_codes"):
                field = "diagnosis_codes"
            elif path.startswith("place_of_service"):
                field = "place_of_service"
            elif path.startswith("items"):
                field = "other_codes"
            else:
                field = None
            for message in messages:
                self.add_error(field, message)
