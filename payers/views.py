"""Payer pages: the list of payers, and one payer's policy documents and coverage by code."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.views.generic import DetailView

from payers.filtersets import PayerFilterSet
from payers.models import Payer
from payers.selectors import open_gaps, payer_list, policy_document_list, published_coverage, summarise_payers
from policyhub.views import FilteredListView


class PayerListView(FilteredListView):
    template_name = "payers/payer_list.html"
    filterset_class = PayerFilterSet
    filter_labels = {"q": "Name", "kind": "Kind", "is_national": "National", "is_tracked": "Tracked"}

    def base_queryset(self):
        return payer_list()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["object_list"] = summarise_payers(list(context["object_list"]))
        return context


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
