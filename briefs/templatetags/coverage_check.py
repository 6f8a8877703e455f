"""`{% coverage_check_form code %}`: the "check an order" form on a brief page, for staff."""

from django import template

from briefs.coverage_forms import CoverageCheckForm

register = template.Library()


@register.inclusion_tag("briefs/includes/check_order_form.html", takes_context=True)
def coverage_check_form(context, code):
    return {"form": CoverageCheckForm(code=code.code), "code": code, "csrf_token": context.get("csrf_token")}
