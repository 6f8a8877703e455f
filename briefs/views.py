"""The code pages: the overview, the code index, a code's brief and its Markdown download.

They show a code's catalogue facts together with payer coverage and gaps, which is why they live in
`briefs`, above `codes` and `payers`.
"""

from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.generic import TemplateView, View

from briefs.completeness import completeness_report
from briefs.markdown import render_markdown
from briefs.sections import brief_for
from briefs.selectors import codes_with_coverage_summary
from codes.models import BillingCode
from codes.selectors import code_categories, published_brief_prefetch, recently_changed_briefs
from payers.choices import CodeScope
from payers.filtersets import CodeCoverageFilterSet, FollowUpGapFilterSet
from payers.models import Payer
from payers.selectors import open_gap_counts_by_category, payer_list, published_gaps
from payers.views import gap_chart
from policyhub.access import ReadAccessMixin
from policyhub.remembered import newest_change, remembered
from policyhub.views import FilteredListView


def can_preview_drafts(user) -> bool:
    """Editors see the pending draft of a brief; everybody else only ever sees published text."""
    return user.is_staff and user.has_perm("codes.change_codebrief")


class OverviewView(ReadAccessMixin, TemplateView):
    template_name = "pages/overview.html"

    def get_context_data(self, **kwargs):
        # Counts of published data: remembered until it changes (policyhub.remembered).
        as_of = newest_change(self.request)
        chart = gap_chart(open_gap_counts_by_category(as_of=as_of))
        # Counted by the worklist's own filter, so the number matches the list its link opens.
        overdue = FollowUpGapFilterSet({"overdue": True}, queryset=published_gaps()).qs
        return super().get_context_data(
            code_count=remembered(BillingCode.objects.all(), QuerySet.count, as_of=as_of),
            payer_count=remembered(Payer.objects.all(), QuerySet.count, as_of=as_of),
            open_gap_count=sum(bar["count"] for bar in chart),
            overdue_count=remembered(overdue, QuerySet.count, as_of=as_of),
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

    def filter_data(self):
        # Readers come for codes that have something to read; the whole catalogue is one switch away.
        data = self.request.GET.copy()
        if not data.get("scope"):
            data["scope"] = CodeScope.WITH_CONTENT
        return data

    def base_queryset(self):
        return codes_with_coverage_summary().prefetch_related(published_brief_prefetch()).order_by("code", "system")

    def filter_options(self):
        return {
            "category": [(category, category) for category in code_categories()],
            "payer": list(payer_list().values_list("slug", "name")),
        }

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        scope = self.filterset.form.cleaned_data.get("scope") or CodeScope.WITH_CONTENT
        context["scope"] = scope
        context["scopes"] = CodeScope.choices
        if scope == CodeScope.WITH_CONTENT and not context["object_list"]:
            # An empty answer says whether the whole catalogue has matches, so a search never dead-ends.
            data = self.filter_data()
            data["scope"] = CodeScope.ALL
            context["catalogue_count"] = self.filterset_class(data, queryset=BillingCode.objects.all()).qs.count()
        return context


class CodeBriefView(ReadAccessMixin, TemplateView):
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
            now=timezone.localtime(),
            page_url=self.request.build_absolute_uri(brief.code.get_absolute_url()),
            **kwargs,
        )


class CodeBriefMarkdownView(ReadAccessMixin, View):
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
