"""Internal pages that are not under an app's prefix: overview, coverage matrix, gap worklist."""

from django.urls import path

from briefs.views import OverviewView
from payers.views import CoverageCsvView, CoverageMatrixView, GapWorklistView

urlpatterns = [
    path("", OverviewView.as_view(), name="overview"),
    path("coverage/", CoverageMatrixView.as_view(), name="coverage"),
    path("coverage/coverage.csv", CoverageCsvView.as_view(), name="coverage-csv"),
    path("gaps/", GapWorklistView.as_view(), name="gaps"),
]
