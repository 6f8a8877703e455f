"""The admin's search box on large tables: the same matches as Django's, found through indexes."""

from functools import reduce
from operator import or_

from django.db.models import Q
from django.db.models.constants import LOOKUP_SEP
from django.utils.text import smart_split, unescape_string_literal

from policyhub.filtersets import matching_keys

LOOKUPS = {"=": "iexact", "^": "istartswith", "@": "search"}


class IndexedSearchMixin:
    """Searches `search_fields` as Django's admin does (every term must match one field), but a
    field of a related row (`payer__name`) is matched in that row's table first and the result
    kept as `payer IN (...)`.

    Django's own search ORs conditions on the joined tables, which PostgreSQL can only check row
    by row over the whole join; here every condition reads the searched table's own columns and
    indexes (`code = ...`, `payer_id IN (3, 8)`: `matching_keys`, a trigram index on `criteria`).
    `code_search(term)` lets a subclass answer a whole term by itself (a billing code, exactly).
    """

    def code_search(self, queryset, term: str):
        return None

    def get_search_results(self, request, queryset, search_term):
        found = self.code_search(queryset, search_term)
        if found is not None:
            return found, False
        fields = self.get_search_fields(request)
        if not fields or not search_term.strip():
            return super().get_search_results(request, queryset, search_term)
        for bit in smart_split(search_term):
            if bit.startswith(('"', "'")) and bit[0] == bit[-1]:
                bit = unescape_string_literal(bit)
            queryset = queryset.filter(reduce(or_, (self._condition(field, bit) for field in fields)))
        return queryset, False

    def _condition(self, field: str, term: str) -> Q:
        lookup = LOOKUPS.get(field[0], "icontains")
        path = field[1:] if field[0] in LOOKUPS else field
        first, _, rest = path.partition(LOOKUP_SEP)
        relation = self.model._meta.get_field(first)
        if rest and relation.many_to_one:
            matching = relation.related_model._default_manager.filter(**{f"{rest}__{lookup}": term})
            return Q(**{f"{first}__in": matching_keys(matching)})
        return Q(**{f"{path}__{lookup}": term})
