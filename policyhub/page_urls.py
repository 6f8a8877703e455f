"""Internal pages that are not owned by one app: overview, coverage matrix, gap worklist."""

from django.urls import path

from policyhub import views

urlpatterns = [
    path("", views.OverviewView.as_view(), name="overview"),
    path("coverage/", views.CoverageMatrixView.as_view(), name="coverage"),
    path("coverage/coverage.csv", views.CoverageCsvView.as_view(), name="coverage-csv"),
    path("gaps/", views.GapWorklistView.as_view(), name="gaps"),
]
