"""The internal pages readers use: overview, code index and brief, coverage matrix, gap worklist.

Every page needs a login. Lists filter through the same FilterSets as the API and read through the
selectors, so each page runs a small, fixed number of queries. The code pages live here, not in
`codes/`, because they show payer data and `codes` never imports `payers`; `codes/urls.py` routes
to them under the "codes" namespace.
"""

import csv

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.db.models import Exists, F, OuterRef
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.views.generic import ListView, TemplateView, View

from codes.models import BillingCode
from codes.selectors import code_categories, published_brief_prefetch, recently_changed_briefs
from payers.brief_markdown import render_markdown
from payers.brief_sections import brief_for
from payers.choices import OPEN_GAP_STATUSES, GapCategory
from payers.completeness import completeness_report
from payers.filtersets import CodeCoverageFilterSet, CoverageCriterionFilterSet, FollowUpGapFilterSet
from payers.models import FollowUpGap, Payer
from payers.selectors import (
    codes_with_coverage_summary,
    coverage_in_force,
    gap_list,
    open_gap_counts_by_category,
    payer_list,
)

ANY = ("", "Any")


def filter_fields(filterset, labels: dict[str, str], options: dict[str, list] | None = None) -> list:
    """The FilterSet form's fields a page shows, in `labels` order, with widgets that suit a side panel.

    Multiple choices become checkboxes, yes/no filters an Any/Yes/No menu, and a text filter listed in
    `options` a menu of those values. Call before reading `filterset.qs`, which validates the form.
    """
    options = options or {}
    form = filterset.form
    for name, label in labels.items():
        field = form.fields[name]
        field.label = label
        if name in options:
            field.widget = forms.Select(choices=[ANY, *options[name]])
        elif isinstance(field, forms.NullBooleanField):
            field.widget = forms.Select(choices=[ANY, ("true", "Yes"), ("false", "No")])
        elif isinstance(field.widget, forms.SelectMultiple):
            field.widget = forms.CheckboxSelectMultiple(choices=field.choices)
        elif isinstance(field.widget, forms.Select):
            field.widget.choices = [ANY, *(choice for choice in field.choices if choice[0] != "")]
    return [form[name] for name in labels]


def can_preview_drafts(user) -> bool:
    """Editors see the pending draft of a brief; everybody else only ever sees published text."""
    return user.is_staff and user.has_perm("codes.change_codebrief")


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


class FilteredListView(LoginRequiredMixin, ListView):
    """A paginated list narrowed by the model's shared FilterSet, with the filter form beside it."""

    filterset_class = None
    filter_labels: dict[str, str] = {}
    paginate_by = 50

    def base_queryset(self):
        raise NotImplementedError

    def filter_data(self):
        return self.request.GET

    def filter_options(self) -> dict[str, list]:
        return {}

    def get_queryset(self):
        self.filterset = self.filterset_class(self.filter_data(), queryset=self.base_queryset(), request=self.request)
        self.filter_fields = filter_fields(self.filterset, self.filter_labels, self.filter_options())
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        return super().get_context_data(filterset=self.filterset, filter_fields=self.filter_fields, **kwargs)


class OverviewView(LoginRequiredMixin, TemplateView):
    template_name = "pages/overview.html"

    def get_context_data(self, **kwargs):
        chart = gap_chart(open_gap_counts_by_category())
        # Counted by the worklist's own filter, so the number matches the list its link opens.
        overdue = FollowUpGapFilterSet({"overdue": True}, queryset=FollowUpGap.objects.all()).qs
        return super().get_context_data(
            code_count=BillingCode.objects.count(),
            payer_count=Payer.objects.count(),
            open_gap_count=sum(bar["count"] for bar in chart),
            overdue_count=overdue.count(),
            gap_chart=chart,
            recent_briefs=recently_changed_briefs(),
            **kwargs,
        )


class CodeListView(FilteredListView):
    template_name = "codes/billingcode_list.html"
    filterset_class = CodeCoverageFilterSet
    filter_labels = {
        "q": "Code or words",
        "system": "Code system",
        "category": "Category",
        "payer": "Payer",
        "coverage_status": "Coverage status",
        "prior_auth": "Prior authorization",
        "has_open_gaps": "Has open follow-up gaps",
        "is_add_on": "Add-on code",
    }

    def base_queryset(self):
        return codes_with_coverage_summary().prefetch_related(published_brief_prefetch()).order_by("code", "system")

    def filter_options(self):
        return {
            "category": [(category, category) for category in code_categories()],
            "payer": list(payer_list().values_list("slug", "name")),
        }


class CodeBriefView(LoginRequiredMixin, TemplateView):
    """The published brief of one code; editors see the pending draft instead, under a banner."""

    template_name = "codes/billingcode_detail.html"

    def get_context_data(self, code, **kwargs):
        brief = brief_for(code, preview=can_preview_drafts(self.request.user))
        if brief is None:
            raise Http404(f"No billing code {code}.")
        return super().get_context_data(
            brief=brief,
            code=brief.code,
            completeness=completeness_report(brief.code),
            today=timezone.localdate(),
            **kwargs,
        )


class CodeBriefMarkdownView(LoginRequiredMixin, View):
    """The published brief as a Markdown file (drafts are previewed on the page only)."""

    def get(self, request, code):
        brief = brief_for(code)
        if brief is None:
            raise Http404(f"No billing code {code}.")
        response = HttpResponse(
            render_markdown(brief, absolute_url=request.build_absolute_uri),
            content_type="text/markdown; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="policyhub-brief-{brief.code.code}.md"'
        return response


class CoverageMatrixView(FilteredListView):
    """Codes down, payers across: each cell the published criterion in force today. Payers come
    `payers_per_page` columns at a time (`?payer_page=`)."""

    template_name = "pages/coverage.html"
    filterset_class = CoverageCriterionFilterSet
    filter_labels = {
        "category": "Category",
        "payer_kind": "Payer kind",
        "payer": "Payer",
        "coverage_status": "Coverage status",
        "prior_auth": "Prior authorization",
    }

    # 300 payers side by side are neither readable nor quick to build.
    payers_per_page = 25

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
        with_criteria = Payer.objects.filter(Exists(self.criteria.filter(payer=OuterRef("pk")))).order_by("name")
        payer_page = Paginator(with_criteria, self.payers_per_page).get_page(self.request.GET.get("payer_page"))
        payers = list(payer_page)
        cells = {
            (c.code_id, c.payer_id): c
            for c in self.criteria.filter(code_id__in=[code.pk for code in codes], payer_id__in=[p.pk for p in payers])
        }
        context["payers"], context["payer_page"] = payers, payer_page
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
        lines = self.lines(in_code_order(filterset.qs))
        response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="policyhub-coverage-{timezone.localdate()}.csv"'
        return response

    def lines(self, criteria):
        writer = csv.writer(_Echo())
        yield writer.writerow(self.HEADER)
        for c in criteria:
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
