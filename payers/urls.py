from django.urls import path

from payers import views

app_name = "payers"
urlpatterns = [
    path("", views.PayerListView.as_view(), name="list"),
    path("<slug:slug>/", views.PayerDetailView.as_view(), name="detail"),
]
