"""Code categories are a controlled list curators manage in the admin: a typo cannot make a new filter value."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError

from codes.models import BillingCode, CodeCategory
from tests.factories import BillingCodeFactory
from tests.migrations import upgraded_from
from tests.workflow.adminpages import admin_url, form_data, page_errors

pytestmark = pytest.mark.django_db


def test_a_code_category_must_be_on_the_list(db):
    CodeCategory.objects.create(name="Cardiovascular / structural heart")
    code = BillingCodeFactory(category="Cardiovascular / structural heart")
    code.full_clean()
    code.category = "Cardiovascular / structual heart"
    with pytest.raises(ValidationError) as error:
        code.full_clean()
    assert "“Cardiovascular / structual heart” is not a code category" in str(error.value.message_dict["category"])


def test_the_admin_offers_the_list_and_refuses_a_typo(staff_client):
    CodeCategory.objects.create(name="Devices")
    code = BillingCodeFactory(category="")
    page = staff_client.get(admin_url(code, "change"))
    assert '<option value="Devices">Devices</option>' in page.content.decode()
    response = staff_client.post(admin_url(code, "change"), form_data(page, category="Devises"))
    assert "Select a valid choice. Devises is not one of the available choices." in page_errors(response)
    response = staff_client.post(admin_url(code, "change"), form_data(page, category="Devices"))
    assert response.status_code == 302
    assert BillingCode.objects.get(pk=code.pk).category == "Devices"


def test_a_category_in_use_keeps_its_name_and_cannot_be_deleted(staff_client):
    used, unused = CodeCategory.objects.create(name="Devices"), CodeCategory.objects.create(name="Unused")
    BillingCodeFactory(category="Devices")
    assert 'name="name"' not in staff_client.get(admin_url(used, "change")).content.decode()
    assert staff_client.get(admin_url(used, "delete")).status_code == 403
    assert staff_client.get(admin_url(unused, "delete")).status_code == 200


def test_filter_menus_list_the_controlled_categories(staff_client):
    CodeCategory.objects.create(name="Devices")
    CodeCategory.objects.create(name="Unused yet")
    BillingCodeFactory(category="")
    html = staff_client.get("/codes/").content.decode()
    assert '<option value="Devices">Devices</option>' in html
    assert '<option value="Unused yet">Unused yet</option>' in html


def test_the_database_refuses_a_category_not_on_the_list(db):
    """Every write path, not only a validated save: update(), bulk_create() and a plain save()."""
    CodeCategory.objects.create(name="Devices")
    code = BillingCodeFactory(category="Devices")
    with pytest.raises(IntegrityError, match="billingcode_category_listed"), transaction.atomic():
        BillingCode.objects.filter(pk=code.pk).update(category="Devices ")  # a stray space
    with pytest.raises(IntegrityError, match="billingcode_category_listed"), transaction.atomic():
        BillingCode.objects.bulk_create(
            [BillingCode(system="CPT", code="93599", short_descriptor="x", category="Devises")]
        )
    code.category = "Devises"
    with pytest.raises(IntegrityError, match="billingcode_category_listed"), transaction.atomic():
        code.save()
    assert BillingCode.objects.get(pk=code.pk).category == "Devices"
    BillingCode.objects.filter(pk=code.pk).update(category="")  # no category is allowed
    assert not BillingCode.objects.filter(code="93599").exists()


def test_the_database_keeps_a_category_in_use(db):
    used, unused = CodeCategory.objects.create(name="Devices"), CodeCategory.objects.create(name="Unused")
    BillingCodeFactory(category="Devices")
    refused = "cannot be deleted: billing codes are filed under it"
    with pytest.raises(ProtectedError, match=refused), transaction.atomic():
        CodeCategory.objects.filter(pk=used.pk).delete()
    with pytest.raises(ProtectedError), transaction.atomic():
        used.delete()
    if connection.vendor == "postgresql":  # SQLite has no delete trigger (see migration 0010)
        with (
            pytest.raises(IntegrityError, match="codecategory_in_use"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("DELETE FROM codes_codecategory WHERE name = 'Devices'")
    with pytest.raises(IntegrityError, match="codecategory_in_use"), transaction.atomic():
        CodeCategory.objects.filter(pk=used.pk).update(name="Device")
    CodeCategory.objects.filter(pk=used.pk).update(description="Implants and their delivery systems")
    CodeCategory.objects.filter(pk=unused.pk).update(name="Not used")
    CodeCategory.objects.filter(pk=unused.pk).delete()
    assert list(CodeCategory.objects.values_list("name", flat=True)) == ["Devices"]


@pytest.mark.django_db(transaction=True)
def test_migration_turns_existing_free_text_into_list_entries():
    with upgraded_from("codes", "0004_release_changes") as old_apps:
        old_code = old_apps.get_model("codes", "BillingCode")
        for number, category in (("93590", "Cardiology"), ("93591", "Cardiology"), ("93592", "Devices"), ("93593", "")):
            old_code.objects.create(system="CPT", code=number, short_descriptor="x", category=category)
    assert list(CodeCategory.objects.values_list("name", flat=True)) == ["Cardiology", "Devices"]
