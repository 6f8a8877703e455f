"""Who may do what: PolicyHub's three roles as auth groups.

- **Policy editor** (staff): creates and edits drafts of everything a brief shows (brief texts, sites
  of service, modifier guidance, relationships, associated diagnoses, coverage criteria,
  documentation requirements, benchmarks, policy documents, follow-up gaps) and submits them for
  review; runs gap detection.
- **Policy reviewer** (staff): everything an editor does, plus approve and publish, send back and
  retire (the custom `publish_<model>` permission of each reviewed model), and maintains payers and
  the reference catalogues.
- **Viewer** (not staff): reads the pages and the API.

Editors also map payer identifiers for the CDS Hooks service; reviewers register its CDS clients.
Recorded coverage assertions are view-only for everyone (the admin refuses edits).

Superusers hold every permission. `sync_roles()` makes each group hold exactly the permissions
below; the data migration `payers/migrations/0004_roles.py` runs it, and a change to this table
comes with a new migration that runs it again. `set_roles()` gives a user their roles and the staff
status that goes with them (the user admin and `manage.py assign_role` call it).
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group
from django.db import DEFAULT_DB_ALIAS, transaction

EDITOR = "Policy editor"
REVIEWER = "Policy reviewer"
VIEWER = "Viewer"
ROLES = (EDITOR, REVIEWER, VIEWER)
STAFF_ROLES = frozenset({EDITOR, REVIEWER})

# Reviewed models: their `publish_<model>` permission is what makes a reviewer.
REVIEWED = (
    "codes.codebrief",
    "codes.codediagnosis",
    "codes.coderelationship",
    "codes.modifierguidance",
    "codes.siteofservice",
    "payers.benchmark",
    "payers.coveragecriterion",
    "payers.documentationrequirement",
    "payers.followupgap",
    "payers.policydocument",
)

READABLE = (
    "codes.billingcode",
    "codes.codebrief",
    "codes.codecategory",
    "codes.codediagnosis",
    "codes.coderelationship",
    "codes.codesetrelease",
    "codes.diagnosiscode",
    "codes.modifier",
    "codes.modifierguidance",
    "codes.placeofservice",
    "codes.siteofservice",
    "payers.benchmark",
    "payers.coveragecriterion",
    "payers.documentationrequirement",
    "payers.followupgap",
    "payers.payer",
    "payers.policydocument",
    "briefs.payeridentifier",
    "briefs.coverageassertion",
)
EDITOR_EDITS = (
    "codes.billingcode",
    *REVIEWED,
    "briefs.payeridentifier",
)
# Editors may delete drafts only: the admin refuses deleting published or in-review content to anyone
# without the publish permission.
EDITOR_DELETES = (*REVIEWED,)
REVIEWER_ALSO_EDITS = (
    "codes.codecategory",
    "codes.diagnosiscode",
    "codes.modifier",
    "codes.placeofservice",
    "payers.payer",
    "briefs.cdsclient",
)
REVIEWER_ALSO_DELETES = ("codes.codecategory", "briefs.payeridentifier")


def _perms(actions: tuple[str, ...], models: tuple[str, ...]) -> set[str]:
    return {f"{label.split('.')[0]}.{action}_{label.split('.')[1]}" for label in models for action in actions}


def role_permissions() -> dict[str, set[str]]:
    """Each role's permissions as "app_label.codename"."""
    viewer = _perms(("view",), READABLE)
    editor = viewer | _perms(("add", "change"), EDITOR_EDITS) | _perms(("delete",), EDITOR_DELETES)
    reviewer = (
        editor
        | _perms(("add", "change"), REVIEWER_ALSO_EDITS)
        | _perms(("delete",), REVIEWER_ALSO_DELETES)
        | _perms(("publish",), REVIEWED)
    )
    return {VIEWER: viewer, EDITOR: editor, REVIEWER: reviewer}


def sync_roles(*, apps=global_apps, using: str = DEFAULT_DB_ALIAS) -> None:
    """Create the role groups and give each exactly its permissions. Idempotent.

    Works with a migration's historical `apps`, where permissions of new models do not exist yet
    (Django creates them after the last migration), so it creates them first. Models that do not
    exist at that point of the migration history are skipped.
    """
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    group_model = apps.get_model("auth", "Group")
    for app_config in apps.get_app_configs():
        has_models = getattr(app_config, "models_module", None)
        # Historical app configs have no models module, and create_permissions() skips those.
        app_config.models_module = has_models or True
        create_permissions(app_config, verbosity=0, using=using, apps=apps)
        app_config.models_module = has_models
    for label in REVIEWED:
        model = _model(apps, label)
        if model is None:
            continue
        content_type, _ = ContentType.objects.db_manager(using).get_or_create(
            app_label=model._meta.app_label, model=model._meta.model_name
        )
        Permission.objects.db_manager(using).update_or_create(
            content_type=content_type,
            codename=f"publish_{model._meta.model_name}",
            defaults={"name": f"Can approve, publish and retire {model._meta.verbose_name}"},
        )
    for role, perms in role_permissions().items():
        wanted = [perm for perm in perms if _model(apps, _model_label(perm)) is not None]
        found = {
            f"{app_label}.{codename}": pk
            for pk, app_label, codename in Permission.objects.db_manager(using)
            .filter(codename__in=[perm.split(".")[1] for perm in wanted])
            .values_list("pk", "content_type__app_label", "codename")
        }
        missing = sorted(set(wanted) - set(found))
        if missing:
            raise LookupError(f"Role {role!r} names permissions that do not exist: {', '.join(missing)}")
        group, _ = group_model.objects.db_manager(using).get_or_create(name=role)
        group.permissions.set([found[perm] for perm in wanted])


def _model_label(perm: str) -> str:
    app_label, codename = perm.split(".")
    return f"{app_label}.{codename.split('_', 1)[1]}"


def _model(apps, label: str):
    try:
        return apps.get_model(label)
    except LookupError:
        return None


@transaction.atomic
def set_roles(*, user, roles) -> None:
    """Give `user` exactly `roles` (role groups; other groups stay) and the staff status they imply.

    Editors and reviewers are staff (admin access); a viewer, or a user with no role, is not,
    unless a superuser. The user admin and `manage.py assign_role` both come here, so the groups a
    user holds and their admin access never disagree.
    """
    roles = set(roles)
    unknown = roles - set(ROLES)
    if unknown:
        raise ValueError(f"Unknown role {sorted(unknown)[0]!r}; the roles are {', '.join(ROLES)}.")
    groups = list(Group.objects.filter(name__in=roles))
    if len(groups) != len(roles):
        missing = roles - {group.name for group in groups}
        raise LookupError(f"The role group {sorted(missing)[0]!r} does not exist; run `manage.py migrate`.")
    user.groups.remove(*Group.objects.filter(name__in=ROLES).exclude(name__in=roles))
    user.groups.add(*groups)
    staff = user.is_superuser or bool(roles & STAFF_ROLES)
    if user.is_staff != staff:
        user.is_staff = staff
        user.save(update_fields=["is_staff"])


def assign_role(*, user, role: str) -> None:
    """Make `role` the user's only role."""
    set_roles(user=user, roles=[role])


def roles_of(user) -> list[str]:
    return sorted(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
