"""Code categories are a controlled list curators manage in the admin: a typo cannot make a new filter value."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from codes.models import BillingCode, CodeCategory
from tests.factories import BillingCodeFactory
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
    stray = BillingCodeFactory(category="")
    BillingCode.objects.filter(pk=stray.pk).update(category="Devices ")  # a stray space in old data is no menu entry
    html = staff_client.get("/codes/").content.decode()
    assert '<option value="Devices">Devices</option>' in html
    assert "Devices </option>" not in html


@pytest.mark.django_db(transaction=True)
def test_migration_turns_existing_free_text_into_list_entries():
    executor = MigrationExecutor(connection)
    executor.migrate([("codes", "0004_release_changes")])
    old_apps = executor.loader.project_state([("codes", "0004_release_changes")]).apps
    old_code = old_apps.get_model("codes", "BillingCode")
    for number, category in (("93590", "Cardiology"), ("93591", "Cardiology"), ("93592", "Devices"), ("93593", "")):
        old_code.objects.create(system="CPT", code=number, short_descriptor="x", category=category)
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert list(CodeCategory.objects.values_list("name", flat=True)) == ["Cardiology", "Devices"]
