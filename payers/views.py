"""Payer pages: the list of payers, one payer's policy documents and coverage by code, the coverage
matrix (and its CSV) and the follow-up gap worklist."""

import csv

from django.contrib.auth import get_user_model
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.db.models import F
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.views.generic import DetailView, View

from codes.models import BillingCode
from codes.selectors import code_categories
from payers.choices import OPEN_GAP_STATUSES, GapCategory
from payers.filtersets import CoverageCriterionFilterSet, FollowUpGapFilterSet, PayerFilterSet
from payers.models import Payer
from payers.selectors import (
    coverage_in_force,
    gap_list,
    open_gap_counts_by_category,
    open_gaps,
    payers_with_summary,
    policy_document_list,
    published_coverage,
)
from policyhub.views import FilteredListView


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
        return payers_with_summary()


class PayerDetailView(LoginRequiredMixin, DetailView):
    """A payer's policy documents and its published coverage by code, each list paginated on its own."""

    model = Payer
    template_name = "payers/payer_detail.html"
    context_object_name = "payer"

    def get_context_data(self, **kwargs):
        payer, query = self.object, self.request.GET
        coverage = published_coverage().filter(payer=payer).order_by("code__code", "-effective_start")
        policies = policy_document_list().filter(payer=payer).order_by("number", "-document_version")
        return super().get_context_data(
            coverage_page=Paginator(coverage, 50).get_page(query.get("page")),
            policy_page=Paginator(policies, 25).get_page(query.get("policies_page")),
            open_gap_count=open_gaps().filter(payer=payer).count(),
            **kwargs,
        )


class CoverageMatrixView(FilteredListView):
    """Codes down, payers across: each cell the published criterion in force today."""

    template_name = "pages/coverage.html"
    filterset_class = CoverageCriterionFilterSet
    filter_labels = {
        "category": "Category",
        "payer_kind": "Payer kind",
        "payer": "Payer",
        "coverage_status": "Coverage status",
        "prior_auth": "Prior authorization",
    }

    def base_queryset(self):
        return coverage_in_force(timezone.localdate())

    def filter_options(self):
        return {"category": [(category, category) for category in code_categories()]}

    def get_queryset(self):
        self.criteria = super().get_queryset()
        return BillingCode.objects.filter(pk__in=self.criteria.values("code_id")).order_by("code", "system")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        codes = list(context["object_list"])
        payers = list(Payer.objects.filter(pk__in=self.criteria.values("payer_id")).order_by("name"))
        cells = {(c.code_id, c.payer_id): c for c in self.criteria.filter(code_id__in=[code.pk for code in codes])}
        context["payers"] = payers
        context["rows"] = [(code, [cells.get((code.pk, payer.pk)) for payer in payers]) for code in codes]
        return context


class _Echo:
    """A file-like object whose write() hands the line back, so csv.writer can feed a streaming response."""

    def write(self, value):
        return value


def csv_safe(value) -> str:
    # A cell starting with = + - @ runs as a formula in spreadsheet programs; a leading quote keeps it text.
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class CoverageCsvView(LoginRequiredMixin, View):
    """Every criterion the coverage matrix shows under the same filters (all its pages), one CSV row each."""

    HEADER = [
        "code",
        "code system",
        "descriptor",
        "category",
        "payer",
        "payer kind",
        "coverage status",
        "prior authorization",
        "prior authorization delegate",
        "source policy",
        "effective start",
        "effective end",
        "last verified",
    ]

    def get(self, request):
        filterset = CoverageCriterionFilterSet(request.GET, queryset=coverage_in_force(timezone.localdate()))
        criteria = filterset.qs.order_by("code__code", "payer__name", "-effective_start")
        response = StreamingHttpResponse(self.lines(criteria), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="policyhub-coverage-{timezone.localdate()}.csv"'
        return response

    def lines(self, criteria):
        writer = csv.writer(_Echo())
        yield writer.writerow(self.HEADER)
        for c in criteria.iterator(chunk_size=2000):
            row = [
                c.code.code,
                c.code.system,
                c.code.short_descriptor,
                c.code.category,
                c.payer.name,
                c.payer.get_kind_display(),
                c.get_coverage_status_display(),
                c.get_prior_auth_display(),
                c.prior_auth_delegate,
                c.policy.number if c.policy_id else "",
                c.effective_start,
                c.effective_end,
                c.last_verified,
            ]
            yield writer.writerow([csv_safe(value) for value in row])


class GapWorklistView(FilteredListView):
    """Follow-up gaps to work on: open ones unless the reader picks statuses, soonest due first."""

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
        "due": ("Due date (soonest)", (F("due_date").asc(nulls_last=True), "priority", "pk")),
        "-due": ("Due date (latest)", (F("due_date").desc(nulls_last=True), "priority", "pk")),
        "priority": ("Priority (highest)", ("priority", F("due_date").asc(nulls_last=True), "pk")),
    }

    def filter_data(self):
        data = self.request.GET.copy()
        if "filtered" not in data and "status" not in data and "is_open" not in data:
            data.setlist("status", [str(status) for status in OPEN_GAP_STATUSES])
        return data

    def filter_options(self):
        users = get_user_model().objects.filter(gaps__isnull=False).distinct().order_by("username")
        return {"assignee": [(name, name) for name in users.values_list("username", flat=True)]}

    def base_queryset(self):
        return gap_list()

    def get_queryset(self):
        self.sort = self.request.GET.get("sort") if self.request.GET.get("sort") in self.SORTS else "due"
        return super().get_queryset().order_by(*self.SORTS[self.sort][1])

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            sort=self.sort,
            sorts=[(key, label) for key, (label, _) in self.SORTS.items()],
            today=timezone.localdate(),
            gap_chart=gap_chart(open_gap_counts_by_category()),
            **kwargs,
        )
