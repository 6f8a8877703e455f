"""Change-list filters for 1M-row tables."""

from django.contrib import admin
from django.db.models import Count


class GroupedFacetsRelatedFilter(admin.RelatedFieldListFilter):
    """Django's filter by a related row (a payer), its counts ("Show counts") read in one grouped pass.

    Django counts each choice with a condition of its own, `COUNT(id) FILTER (WHERE payer_id = n)`:
    300 payers made 300 conditions on each of 1M criteria, 3.0 s of the page. Grouped by the key, the
    database counts every choice in one pass.
    """

    def get_facet_queryset(self, changelist):
        filtered = changelist.get_queryset(self.request, exclude_parameters=self.expected_parameters())
        counted = dict(
            filtered.order_by()
            .values_list(self.field_path)
            .annotate(rows=Count(changelist.pk_attname, distinct=filtered.query.distinct))
            .values_list(self.field_path, "rows")
        )
        counts = {f"{key}__c": counted.get(key, 0) for key, _label in self.lookup_choices}
        if self.include_empty_choice:
            counts["__c"] = counted.get(None, 0)
        return counts
