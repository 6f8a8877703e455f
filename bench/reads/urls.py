"""PolicyHub's URLs plus `/bench/floor/<name>/`: served only with `bench.reads.settings`."""

from django.urls import include, path

from bench.reads.floors import floor_view

urlpatterns = [
    path("bench/floor/<str:name>/", floor_view),
    path("", include("policyhub.urls")),
]
