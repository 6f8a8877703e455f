"""A select widget whose options are written in Python, byte for byte what Django's templates write.

Django renders every `<option>` through a template include: the brief page's "check an order" form,
with its 300 payers, took 15 ms of the page's 74 ms that way (docs/bench.md). `QuickSelect` builds
the same context (`get_context`: selection, attributes, groups) and writes the markup directly;
`tests/foundation/test_widgets.py` holds its output equal to Django's own `Select`'s.
"""

from django import forms
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe


def _attributes(attrs: dict) -> str:
    """As django/forms/widgets/attrs.html: ` name="value"`, a bare ` name` for True, nothing for False.

    Not `django.forms.utils.flatatt`, which sorts the attributes and drops None: the template keeps
    their order and writes None as "None"."""
    return "".join(
        format_html(' {}="{}"', name, str(value)) if value is not True else format_html(" {}", name)
        for name, value in attrs.items()
        if value is not False
    )


class QuickSelect(forms.Select):
    """`forms.Select`, its options written in Python instead of through a template each."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [format_html('<select name="{}"', widget["name"]), _attributes(widget["attrs"]), ">"]
        for group_name, options, _ in widget["optgroups"]:
            if group_name:
                parts.append(format_html('\n  <optgroup label="{}">', group_name))
            for option in options:
                parts += [
                    format_html('\n  <option value="{}"', str(option["value"])),
                    _attributes(option["attrs"]),
                    ">",
                    conditional_escape(option["label"]),
                    "</option>\n",
                ]
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped
