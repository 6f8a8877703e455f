"""Who may open what: every URL pattern in the URLconf, requested with GET by six kinds of user, answers
the status written for it in `url_access.txt`.

The table is the written rule; this test walks the URLconf so a new URL cannot slip in without a row.
"""

from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.admin.sites import site as admin_site
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from codes.choices import ReleaseKind
from codes.models import BillingCode
from payers.models import Payer
from policyhub.models import ApiToken
from policyhub.roles import EDITOR, REVIEWER, VIEWER, assign_role
from tests.factories import (
    BenchmarkFactory,
    CdsClientFactory,
    CodeDiagnosisFactory,
    CodeSetReleaseFactory,
    CoverageAssertionFactory,
    DBTaskResultFactory,
    DiagnosisCodeFactory,
    DocumentationRequirementFactory,
    PayerIdentifierFactory,
    PolicyDocumentFactory,
    WebhookDeliveryFactory,
)

TABLE = Path(__file__).with_name("url_access.txt")
WHO = ("anonymous", "no-role", "viewer", "editor", "reviewer", "superuser")
ROLES = {"viewer": VIEWER, "editor": EDITOR, "reviewer": REVIEWER}

pytestmark = pytest.mark.django_db


def written_table() -> dict[str, tuple[int, ...]]:
    rows = {}
    for number, line in enumerate(TABLE.read_text().splitlines(), start=1):
        line = line.split("#", 1)[0]
        if not line.strip():
            continue
        key, *statuses = line.split()
        assert len(statuses) == len(WHO), f"{TABLE.name} line {number}: six statuses ({', '.join(WHO)})"
        assert key not in rows, f"{TABLE.name} line {number}: {key} is listed twice"
        rows[key] = tuple(int(status) for status in statuses)
    return rows


def url_patterns(patterns=None, prefix="", namespace=""):
    """(key, route, pattern) of every pattern; the key is "namespace:name", or the route when unnamed."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from url_patterns(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            yield (f"{namespace}{pattern.name}" if pattern.name else route), route, pattern


def admin_model(name: str):
    """The model behind an admin URL name such as "codes_billingcode_change"."""
    for model in admin_site._registry:
        if name.startswith(f"{model._meta.app_label}_{model._meta.model_name}_"):
            return model
    return None


def example_url(key: str, route: str, pattern: URLPattern, users: dict) -> str:
    """A concrete URL for a pattern, filled with rows that exist."""
    if route.startswith("admin/(?P<url>"):
        return "/admin/no-such-page/"
    if route.endswith("/<path:object_id>/") and key == route:
        # The admin's old-style object URL, which redirects to the change page.
        change = route.replace("admin/", "", 1).replace("/<path:object_id>/", "").replace("/", "_") + "_change"
        return example_url(f"admin:{change}", route, pattern, users).replace("change/", "")
    namespace, _, name = key.rpartition(":")
    if namespace == "admin":
        model = admin_model(name)
        if name == "autocomplete":
            return reverse(key) + "?app_label=codes&model_name=codebrief&field_name=code&term=935"
        if name == "app_list":
            return reverse(key, kwargs={"app_label": "codes"})
        if name == "view_on_site":
            code = apps.get_model("codes.BillingCode").objects.first()
            content_type = ContentType.objects.get_for_model(code)
            return reverse(key, kwargs={"content_type_id": content_type.pk, "object_id": code.pk})
        if name == "auth_user_password_change":
            return reverse(key, kwargs={"id": users["viewer"].pk})
        if model is not None:
            obj = model._default_manager.order_by("pk").first()
            assert obj is not None, f"the demo data has no {model._meta.label} to open"
            if name.endswith("_simple_history"):
                record = obj.history.order_by("pk").first()
                return reverse(key, args=[obj.pk, record.history_id])
            if name.endswith(("_change", "_delete", "_history", "_workflow")):
                return reverse(key, kwargs={"object_id": obj.pk})
        return reverse(key)
    examples = {
        "api:code-detail": {"code": "93590"},
        "codes:detail": {"code": "93590"},
        "codes:markdown": {"code": "93590"},
        "payers:detail": {"slug": "aetna"},
        "coverage-check-page": {"code": "93590"},
        "admin_review:change_set": {"code": "93590"},
        "admin_review:transition": {"code": "93590"},
        "cds:service": {"service_id": "policyhub-crd-order-sign"},
    }
    if key in examples:
        return reverse(key, kwargs=examples[key])
    if key == "gap-detail":
        return reverse(key, kwargs={"pk": apps.get_model("payers.FollowUpGap").objects.order_by("pk").first().pk})
    if key == "api:change-list":
        return reverse(key) + "?since=2000-01-01T00:00:00Z"
    if key.startswith("api:") and key.endswith("-detail"):
        list_url = reverse(key.replace("-detail", "-list"))
        first = Client().get(list_url, HTTP_AUTHORIZATION=f"Token {users['token']}").json()["results"][0]
        (lookup,) = pattern.pattern.regex.groupindex
        return reverse(key, kwargs={lookup: first["id" if lookup == "pk" else lookup]})
    return reverse(key)


@pytest.fixture
def users(demo, django_user_model):
    # One row of each admin model the demo leaves empty, so every change page has something to open.
    code = BillingCode.objects.get(code="93590")
    CodeDiagnosisFactory(code=code, diagnosis=DiagnosisCodeFactory(code="I350"))
    CodeSetReleaseFactory(kind=ReleaseKind.POS, name="Place of service 2030")
    DocumentationRequirementFactory(code=code)
    BenchmarkFactory(code=code)
    PolicyDocumentFactory(payer=Payer.objects.get(slug="aetna"))
    CdsClientFactory()
    PayerIdentifierFactory(payer=Payer.objects.get(slug="aetna"))
    CoverageAssertionFactory()
    WebhookDeliveryFactory()
    DBTaskResultFactory()  # a row of the task queue
    people = {"superuser": django_user_model.objects.create_superuser("root", password="pw-root-123")}
    people["no-role"] = django_user_model.objects.create_user("nobody", password="pw-nobody-123")
    for who, role in ROLES.items():
        people[who] = django_user_model.objects.create_user(who, password=f"pw-{who}-123")
        assign_role(user=people[who], role=role)
    _, people["token"] = ApiToken.objects.issue(user=people["viewer"], name="walker")
    # Login records for the django-axes admin pages: one failed and one successful login.
    Client().post(reverse("login"), {"username": "nobody", "password": "wrong"})
    Client().post(reverse("login"), {"username": "viewer", "password": "pw-viewer-123"})
    return people


def test_every_url_answers_each_kind_of_user_as_the_table_says(users):
    """Anonymous visitors are sent to log in (401 from the API), users without a role get 403, the
    Viewer role reads pages, downloads and API but not the admin, curators use the admin as their
    permissions allow; health, login and the API docs are open."""
    table = written_table()
    patterns = list(url_patterns())
    missing = [key for key, _, _ in patterns if key not in table]
    assert not missing, (
        f"These URLs have no row in {TABLE}; add one per URL with the status each kind of user "
        f"({', '.join(WHO)}) must get:\n  " + "\n  ".join(missing)
    )
    stale = sorted(set(table) - {key for key, _, _ in patterns})
    assert not stale, f"{TABLE.name} lists URLs that no longer exist: {', '.join(stale)}"

    clients = {"anonymous": Client()}
    for who in WHO[1:]:
        clients[who] = Client()
        clients[who].force_login(users[who])
    wrong = []
    for key, route, pattern in patterns:
        url = example_url(key, route, pattern, users)
        got = tuple(clients[who].get(url).status_code for who in WHO)
        if got != table[key]:
            wrong.append(f"{key} ({url}): expected {table[key]}, got {got}")
    assert not wrong, "Answers differ from the table (anonymous, no-role, viewer, editor, reviewer, superuser):\n" + (
        "\n".join(wrong)
    )


def test_a_token_reads_only_while_its_user_may(users):
    """An API token acts as its user: it reads while the user holds a role and is refused (403)
    the moment the role is taken away."""
    client = Client(HTTP_AUTHORIZATION=f"Token {users['token']}")
    assert client.get("/api/v1/codes/").status_code == 200
    users["viewer"].groups.clear()
    response = client.get("/api/v1/codes/")
    assert response.status_code == 403
    assert "Viewer role" in response.json()["detail"]


@pytest.mark.parametrize(
    ("who", "status"), [("viewer", 200), ("auditor", 200), ("superuser", 200), ("no-role", 403), ("reviewer", 200)]
)
def test_a_token_reads_as_its_user_may(users, django_user_model, who, status):
    """A token reads exactly when its user may: through a role (a group), through the read
    permission given directly, or as a superuser; a user with neither gets 403. (The token's
    look-up and this check are one statement, `policyhub.authentication.token_with_user`.)"""
    from django.contrib.auth.models import Permission

    if who == "auditor":
        users[who] = django_user_model.objects.create_user("auditor", password="pw-auditor-123")
        users[who].user_permissions.add(Permission.objects.get(codename="view_billingcode"))
    _, key = ApiToken.objects.issue(user=users[who], name=who)
    response = Client(HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/codes/")
    assert response.status_code == status
    if status == 403:
        assert "Viewer role" in response.json()["detail"]


def test_no_role_page_says_whom_to_ask(users, settings):
    """A logged-in user without a role sees the 403 page in the site's layout, naming whom to ask."""
    settings.ACCESS_CONTACT = "Dana at the revenue-cycle desk"
    client = Client()
    client.force_login(users["no-role"])
    response = client.get("/codes/")
    assert response.status_code == 403
    text = response.content.decode()
    assert "Dana at the revenue-cycle desk" in text and "Viewer role" in text
    assert 'class="site-header"' in text


def test_explicit_view_permission_is_enough(users, django_user_model):
    """A user given the read permission directly, without a role, reads the pages."""
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("auditor", password="pw-auditor-123")
    user.user_permissions.add(Permission.objects.get(codename="view_billingcode"))
    client = Client()
    client.force_login(user)
    assert client.get("/codes/").status_code == 200
