"""`{{ value|safe_url }}`: the URL if it may be linked (see policyhub.links), else ""."""

from django import template

from policyhub import links

register = template.Library()


@register.filter
def safe_url(value) -> str:
    return links.safe_url(value)
