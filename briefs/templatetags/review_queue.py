"""The review queue and the user's drafts, shown on the admin index."""

from django import template

from briefs.change_sets import drafts_of, review_queue, reviewed_alone

register = template.Library()


@register.inclusion_tag("admin/review/queue_tables.html", takes_context=True)
def review_queue_tables(context):
    return {
        "queue": review_queue(),
        "alone": reviewed_alone(),
        "my_drafts": drafts_of(context["request"].user),
    }
