"""Code pages under /codes/: the index, a code's brief and its Markdown download.

The URL namespace stays "codes" (`codes:detail`), the name readers and templates have always used.
"""

from django.urls import path

from briefs import views

app_name = "codes"
urlpatterns = [
    path("", views.CodeListView.as_view(), name="list"),
    path("<str:code>/", views.CodeBriefView.as_view(), name="detail"),
    path("<str:code>/brief.md", views.CodeBriefMarkdownView.as_view(), name="markdown"),
]
