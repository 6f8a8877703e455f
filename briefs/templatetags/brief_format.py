"""Template filters of the brief pages."""

from django import template

from briefs.sections import plain_number as plain_number_text

register = template.Library()


@register.filter
def plain_number(value):
    """21.7000 -> 21.7; 100.0000 -> 100."""
    return plain_number_text(value)
