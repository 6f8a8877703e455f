"""Code pages: the index and the brief.

They show payer coverage, so their views live with the other cross-app pages in policyhub.views
(the codes app itself never imports payers).
"""

from django.urls import path

from policyhub import views

app_name = "codes"
urlpatterns = [
    path("", views.CodeListView.as_view(), name="list"),
    path("<str:code>/", views.CodeBriefView.as_view(), name="detail"),
    path("<str:code>/brief.md", views.CodeBriefMarkdownView.as_view(), name="markdown"),
]
