"""Payer pages: the list of payers, one payer's policy documents and coverage by code, the coverage
matrix (and its CSV), the follow-up gap worklist and one gap's page."""

import csv
from itertools import islice

from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import Exists, F, OuterRef, QuerySet
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.generic import DetailView, View

from codes.models import BillingCode
from codes.selectors import code_categories
from payers.choices import OPEN_GAP_STATUSES, CoverageStatus, GapCategory, PayerKind, PriorAuth
from payers.filtersets import CoverageCriterionFilterSet, FollowUpGapFilterSet, PayerFilterSet
from payers.models import Payer
from payers.selectors import (
    GAP_ORDER,
    coverage_in_force,
    gap_list,
    open_gap_counts_by_category,
    open_gaps,
    payer_coverage_table,
    payer_list,
    policy_document_list,
    summarise_payers,
    tracked_payers,
)
from policyhub.access import ReadAccessMixin
from policyhub.paginators import RememberedCountPaginator
from policyhub.remembered import newest_change, remembered
from policyhub.spreadsheets import formula_safe
from policyhub.views import FilteredListView, filter_errors


def gap_chart(counts: list[dict]) -> list[dict]:
    """Bars for open gaps per category: label, count and width relative to the largest."""
    largest = max((row["count"] for row in counts), default=0)
    return [
        {
            "category": row["category"],
            "label": GapCategory(row["category"]).label,
            "count": row["count"],
            "width": round(100 * row["count"] / largest) if largest else 0,
        }
        for row in counts
    ]


class PayerListView(FilteredListView):
    template_name = "payers/payer_list.html"
    filterset_class = PayerFilterSet
    filter_labels = {"q": "Name", "kind": "Kind", "is_national": "National", "is_tracked": "Tracked"}

    def base_queryset(self):
        return payer_list()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["object_list"] = summarise_payers(list(context["object_list"]), as_of=newest_change(self.request))
        return context


class PayerDetailView(ReadAccessMixin, DetailView):
    """A payer's policy documents and its published coverage by code, each list paginated on its own."""

    model = Payer
    template_name = "payers/payer_detail.html"
    context_object_name = "payer"

    def get_context_data(self, **kwargs):
        payer, query = self.object, self.request.GET
        coverage = payer_coverage_table(payer)
        policies = policy_document_list().filter(payer=payer).order_by("number", "-document_version")
        # Published rows only: their totals are remembered until published data changes, like the
        # reader lists' (a large payer has thousands of criteria to count).
        as_of = newest_change(self.request)
        return super().get_context_data(
            coverage_page=RememberedCountPaginator(coverage, 50, as_of=as_of).get_page(query.get("page")),
            policy_page=Paginator(policies, 25).get_page(query.get("policies_page")),
            open_gap_count=remembered(open_gaps().filter(payer=payer), QuerySet.count, as_of=as_of),
            **kwargs,
        )


def coverage_filter_data(query):
    """The coverage matrix's filters: the tracked payers until the reader picks payers (or clears them all).

    The matrix and its CSV both read their filters here, so the download holds what the page shows.
    """
    data = query.copy()
    if "payer" not in data and "payer_id" not in data and "filtered" not in data:
        data.setlist("payer", list(tracked_payers().values_list("slug", flat=True)))
    return data


class CoverageMatrixView(FilteredListView):
    """Codes down, payers across: each cell the published criterion in force today. Payers come
    `payers_per_page` columns at a time (`?payer_page=`)."""

    template_name = "pages/coverage.html"
    filterset_class = CoverageCriterionFilterSet
    filter_labels = {
        "payer": "Payers",
        "category": "Category",
        "payer_kind": "Payer kind",
        "coverage_status": "Coverage status",
        "prior_auth": "Prior authorization",
    }

    # 300 payers side by side are neither readable nor quick to build.
    payers_per_page = 25

    def filter_data(self):
        return coverage_filter_data(self.request.GET)

    def base_queryset(self):
        return coverage_in_force(timezone.localdate())

    def filter_options(self):
        return {"category": [(category, category) for category in code_categories()]}

    def get_queryset(self):
        self.criteria = super().get_queryset()
        # EXISTS per code and per payer, read in index order: no pass over every matching criterion.
        shown = Exists(self.criteria.filter(code=OuterRef("pk")))
        return BillingCode.objects.filter(shown).order_by("code", "system")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        codes = list(context["object_list"])
        candidates = Payer.objects.all()
        if chosen := [
            *self.filterset.form.cleaned_data.get("payer", []),
            *self.filterset.form.cleaned_data.get("payer_id", []),
        ]:
            # The criteria say `payer_id IN (...)`; said of the payers too, the database probes only
            # those payers' criteria instead of reading every criterion of each other payer (100 ms at 1M).
            candidates = candidates.filter(pk__in=[payer.pk for payer in chosen])
        with_criteria = candidates.filter(Exists(self.criteria.filter(payer=OuterRef("pk")))).order_by("name")
        # Its total, like the codes', is remembered until published data changes (FilteredListView).
        payer_page = self.get_paginator(with_criteria, self.payers_per_page).get_page(
            self.request.GET.get("payer_page")
        )
        payers = list(payer_page)
        cells = {
            (c.code_id, c.payer_id): c
            for c in self.criteria.filter(code_id__in=[code.pk for code in codes], payer_id__in=[p.pk for p in payers])
        }
        context["payers"], context["payer_page"] = payers, payer_page
        context["rows"] = [(code, [cells.get((code.pk, payer.pk)) for payer in payers]) for code in codes]
        context["tracked_default"] = "payer" not in self.request.GET and "filtered" not in self.request.GET
        context["csv_query"] = coverage_filter_data(self.request.GET).urlencode()
        return context


class _Echo:
    """A file-like object whose write() hands the line back, so csv.writer can feed a streaming response."""

    def write(self, value):
        return value


def csv_safe(value) -> str:
    return formula_safe("" if value is None else str(value))


def in_code_order(criteria, codes_per_query: int = 500):
    """The criteria by code, payer and newest period first, read a few hundred codes at a time.

    Ordering the whole set at once makes the database sort every matching criterion before the
    first row leaves; codes are read in index order instead, and each chunk's criteria sorted alone.
    """
    codes = BillingCode.objects.filter(Exists(criteria.filter(code=OuterRef("pk")))).order_by("code", "system")
    keys = list(codes.values_list("pk", flat=True))
    for start in range(0, len(keys), codes_per_query):
        chunk = criteria.filter(code_id__in=keys[start : start + codes_per_query])
        yield from chunk.order_by("code__code", "payer__name", "-effective_start")


class CoverageCsvView(ReadAccessMixin, View):
    """Every criterion the coverage matrix shows under the same filters (all its pages), one CSV row each."""

    # Header and the value each column is written from, read as plain values: building each
    # criterion with its code, payer and policy was most of a full export's time (1M data set:
    # 259,188 criteria in force, 32 s).
    COLUMNS = {
        "code": "code__code",
        "code system": "code__system",
        "descriptor": "code__short_descriptor",
        "category": "code__category",
        "payer": "payer__name",
        "payer kind": "payer__kind",
        "coverage status": "coverage_status",
        "prior authorization": "prior_auth",
        "prior authorization delegate": "prior_auth_delegate",
        "source policy": "policy__number",
        "effective start": "effective_start",
        "effective end": "effective_end",
        "last verified": "last_verified",
    }
    # Columns written with their choice's label, as the pages show them.
    LABELS = {
        "payer kind": dict(PayerKind.choices),
        "coverage status": dict(CoverageStatus.choices),
        "prior authorization": dict(PriorAuth.choices),
    }
    # Rows sent to the server in one piece: one write per row made a full export a quarter of a
    # million writes.
    ROWS_PER_WRITE = 500

    def get(self, request):
        filterset = CoverageCriterionFilterSet(
            coverage_filter_data(request.GET), queryset=coverage_in_force(timezone.localdate())
        )
        if errors := filter_errors(filterset):
            # Without the refused filter the download would hold more than the reader asked for.
            return HttpResponseBadRequest("\n".join(errors) + "\n", content_type="text/plain; charset=utf-8")
        lines = self.lines(in_code_order(filterset.qs.values_list(*self.COLUMNS.values())))
        response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="policyhub-coverage-{timezone.localdate()}.csv"'
        return response

    def lines(self, rows):
        writer = csv.writer(_Echo())
        labels = [self.LABELS.get(header) for header in self.COLUMNS]
        yield writer.writerow(self.COLUMNS)
        rows = iter(rows)
        while chunk := list(islice(rows, self.ROWS_PER_WRITE)):
            yield "".join(
                writer.writerow(
                    [
                        csv_safe(label.get(value, value) if label else value)
                        for label, value in zip(labels, row, strict=True)
                    ]
                )
                for row in chunk
            )


class GapWorklistView(FilteredListView):
    """Follow-up gaps to work on: open ones unless the reader picks statuses, most urgent first."""

    template_name = "pages/gaps.html"
    filterset_class = FollowUpGapFilterSet
    filter_labels = {
        "q": "Search",
        "code": "Codes",
        "status": "Status",
        "priority": "Priority",
        "category": "Category",
        "payer": "Payer",
        "assignee": "Assignee",
        "overdue": "Overdue",
    }
    SORTS = {
        "priority": ("Priority, then due date", GAP_ORDER),
        "due": ("Due date (soonest)", (F("due_date").asc(nulls_last=True), "priority", "pk")),
        "-due": ("Due date (latest)", (F("due_date").desc(nulls_last=True), "priority", "pk")),
    }

    def filter_data(self):
        data = self.request.GET.copy()
        if "filtered" not in data and "status" not in data and "is_open" not in data:
            data.setlist("status", [str(status) for status in OPEN_GAP_STATUSES])
        return data

    def filter_options(self):
        users = get_user_model().objects.filter(gaps__in=gap_list()).distinct().order_by("username")
        return {"assignee": [(name, name) for name in users.values_list("username", flat=True)]}

    def base_queryset(self):
        return gap_list()

    def get_queryset(self):
        self.sort = self.request.GET.get("sort") if self.request.GET.get("sort") in self.SORTS else "priority"
        return super().get_queryset().order_by(*self.SORTS[self.sort][1])

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            sort=self.sort,
            sorts=[(key, label) for key, (label, _) in self.SORTS.items()],
            today=timezone.localdate(),
            gap_chart=gap_chart(open_gap_counts_by_category(as_of=newest_change(self.request))),
            **kwargs,
        )


class GapDetailView(ReadAccessMixin, DetailView):
    """One follow-up gap as readers see it: what is missing, about what, who chases it and by when."""

    template_name = "pages/gap_detail.html"
    context_object_name = "gap"

    def get_queryset(self):
        return gap_list()

    def get_context_data(self, **kwargs):
        gap = self.object
        can_edit = self.request.user.is_staff and self.request.user.has_perm("payers.change_followupgap")
        return super().get_context_data(
            today=timezone.localdate(),
            admin_url=reverse("admin:payers_followupgap_change", args=[gap.pk]) if can_edit else "",
            **kwargs,
        )
