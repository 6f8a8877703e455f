"""Links to a code's page (`BillingCode.get_absolute_url`, on every row of the payer page, the code
list and the coverage matrix) are what `reverse()` gives, under any URL prefix."""

import pytest
from django.urls import reverse, set_script_prefix

from codes.models import BillingCode
from codes.models.billing_codes import code_page_url


@pytest.mark.parametrize("code", ["93590", "A0021", "0001F", "g0101"])
def test_a_code_links_to_its_page(code):
    assert code_page_url(code) == reverse("codes:detail", args=[code]) == f"/codes/{code}/"
    assert BillingCode(code=code).get_absolute_url() == f"/codes/{code}/"


def test_a_code_that_needs_quoting_is_quoted():
    assert code_page_url("A B") == reverse("codes:detail", args=["A B"]) == "/codes/A%20B/"


def test_links_follow_the_sites_url_prefix():
    """Served under a path (SCRIPT_NAME), links carry it, though the plain link was made before."""
    assert code_page_url("93590") == "/codes/93590/"
    set_script_prefix("/policyhub/")
    try:
        assert code_page_url("93590") == "/policyhub/codes/93590/"
    finally:
        set_script_prefix("/")
    assert code_page_url("93590") == "/codes/93590/"
