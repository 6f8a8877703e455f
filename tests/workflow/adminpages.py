"""Driving admin pages the way a browser does: read a form, post it back with some fields changed."""

from django.contrib.messages import get_messages
from django.urls import reverse


def admin_url(model_or_obj, action: str, *args) -> str:
    opts = model_or_obj._meta
    if action in {"change", "history", "workflow", "delete"} and not args:
        args = (model_or_obj.pk,)
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{action}", args=args)


def form_data(response, **overrides) -> dict:
    """The POST of an admin add/change page as rendered (main form and inlines), with `overrides` applied."""
    data = {}

    def put(form):
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue
            if value is True:
                value = "on"
            elif isinstance(value, list | tuple):
                value = [str(v) for v in value]
            data[form.add_prefix(name)] = value

    put(response.context["adminform"].form)
    for inline in response.context.get("inline_admin_formsets", []):
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        for form in formset.forms:
            put(form)
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def inline_prefix(response, model):
    """The form prefix of the inline of `model` on an admin page."""
    for inline in response.context["inline_admin_formsets"]:
        if inline.formset.model is model:
            return inline.formset.prefix
    raise AssertionError(f"no {model.__name__} inline")


def add_inline_rows(data, prefix, rows):
    """Append new rows to an inline formset's POST data."""
    start = int(data[f"{prefix}-TOTAL_FORMS"])
    for offset, row in enumerate(rows):
        for key, value in row.items():
            data[f"{prefix}-{start + offset}-{key}"] = value
    data[f"{prefix}-TOTAL_FORMS"] = str(start + len(rows))
    return data


def page_errors(response) -> str:
    """Every error the change page shows: the main form's and the inlines'."""
    assert response.status_code == 200, f"expected the form back with errors, got {response.status_code}"
    forms = [response.context["adminform"].form]
    texts = list(forms[0].non_field_errors())
    for inline in response.context.get("inline_admin_formsets", []):
        texts.extend(inline.formset.non_form_errors())
        forms.extend(inline.formset.forms)
    for form in forms:
        texts.extend(message for messages in form.errors.values() for message in messages)
    return " ".join(dict.fromkeys(texts))


def messages_of(response) -> str:
    """The admin's flash messages after a redirect (or on the page)."""
    return " ".join(str(message) for message in get_messages(response.wsgi_request))
