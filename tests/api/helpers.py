"""What the API tests share: the resources, how each names its rows, and URL builders."""

from django.urls import reverse

# Router basename -> the dataset row its detail test fetches and the field that keys its results.
RESOURCES = {
    "code": ("mitral", "code"),
    "modifier": ("kx", "code"),
    "place-of-service": ("inpatient", "code"),
    "diagnosis-code": ("i2510", "code"),
    "payer": ("aetna", "slug"),
    "payer-policy": ("aetna_policy", "id"),
    "coverage-criterion": ("aetna_mitral", "id"),
    "documentation-requirement": ("tee", "id"),
    "benchmark": ("work_rvu", "id"),
    "gap": ("open_gap", "id"),
}


def list_url(basename: str) -> str:
    return reverse(f"api:{basename}-list")


def lookup_of(basename: str, obj) -> str:
    return str(getattr(obj, RESOURCES[basename][1]))


def detail_url(basename: str, obj) -> str:
    return reverse(f"api:{basename}-detail", args=[lookup_of(basename, obj)])


def keys(response, basename: str) -> set[str]:
    """The lookup values of a list response's results."""
    field = RESOURCES[basename][1]
    return {str(row[field]) for row in response.json()["results"]}
