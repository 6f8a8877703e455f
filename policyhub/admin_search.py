"""The admin's search box on large tables: the same matches as Django's, found through indexes."""

from functools import reduce
from operator import or_

from django.contrib import messages
from django.db.models import Q
from django.db.models.constants import LOOKUP_SEP
from django.utils.text import get_text_list, smart_split, unescape_string_literal

from policyhub.filtersets import TRIGRAM_RUN, matching_keys, trigram_searchable

LOOKUPS = {"=": "iexact", "^": "istartswith", "@": "search"}


class IndexedSearchMixin:
    """Searches `search_fields` as Django's admin does (every term must match one field), but a
    field of a related row (`payer__name`) is matched in that row's table first and the result
    kept as `payer IN (...)`.

    Django's own search ORs conditions on the joined tables, which PostgreSQL can only check row
    by row over the whole join; here every condition reads the searched table's own columns and
    indexes (`code = ...`, `payer_id IN (3, 8)`: `matching_keys`, a trigram index on `criteria`).
    `code_search(term)` lets a subclass answer a whole term by itself (a billing code, exactly).

    `trigram_fields` are text fields of a table too large to read whole, found only through their
    trigram index: a word it cannot find (`trigram_searchable`) is looked for in the other fields
    alone, and the list says so. At 1M criteria such a word ("ab") read every criterion, 1.9-2.7 s.
    """

    trigram_fields: tuple[str, ...] = ()

    def code_search(self, queryset, term: str):
        return None

    def get_search_results(self, request, queryset, search_term):
        found = self.code_search(queryset, search_term)
        if found is not None:
            return found, False
        fields = self.get_search_fields(request)
        if not fields or not search_term.strip():
            return super().get_search_results(request, queryset, search_term)
        unsearched = []
        for bit in smart_split(search_term):
            if bit.startswith(('"', "'")) and bit[0] == bit[-1]:
                bit = unescape_string_literal(bit)
            searched = fields if trigram_searchable(bit) else [f for f in fields if f not in self.trigram_fields]
            if len(searched) < len(fields):
                unsearched.append(bit)
            if searched:
                queryset = queryset.filter(reduce(or_, (self._condition(field, bit) for field in searched)))
        if unsearched:
            self.say_unsearched(request, unsearched)
        return queryset, False

    def say_unsearched(self, request, words: list[str]) -> None:
        # Once: with *Show counts* on, the change list searches again for every filter's facets.
        if getattr(request, "policyhub_said_unsearched", False):
            return
        request.policyhub_said_unsearched = True
        labels = get_text_list(
            [str(self.model._meta.get_field(field).verbose_name) for field in self.trigram_fields], "or"
        )
        quoted = get_text_list([f"“{word}”" for word in words], "and")
        messages.warning(
            request,
            f"Not looked for in the {labels}: {quoted}. A word is found there when it holds at least "
            f"{TRIGRAM_RUN} letters or digits in a row.",
        )

    def _condition(self, field: str, term: str) -> Q:
        lookup = LOOKUPS.get(field[0], "icontains")
        path = field[1:] if field[0] in LOOKUPS else field
        first, _, rest = path.partition(LOOKUP_SEP)
        relation = self.model._meta.get_field(first)
        if rest and relation.many_to_one:
            matching = relation.related_model._default_manager.filter(**{f"{rest}__{lookup}": term})
            return Q(**{f"{first}__in": matching_keys(matching)})
        return Q(**{f"{path}__{lookup}": term})
