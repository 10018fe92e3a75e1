"""The managers' store pages, under /shops/ (crm/urls.py); the webhook door is shops/urls.py."""
from django.urls import path

from . import store_views as views

app_name = "stores"

urlpatterns = [
    path("stores/", views.store_list, name="store_list"),
    path("stores/add/", views.store_add, name="store_add"),
    path("stores/<int:pk>/", views.store_detail, name="store_detail"),
    path("stores/<int:pk>/edit/", views.store_edit, name="store_edit"),
    path("stores/<int:pk>/test/", views.store_test, name="store_test"),
    path("stores/<int:pk>/sync/<str:kind>/", views.store_sync, name="store_sync"),
    path("stores/<int:pk>/active/", views.store_active, name="store_active"),
    path("stores/<int:pk>/webhook-secret/", views.store_webhook_secret,
         name="store_webhook_secret"),
    path("jobs/<int:pk>/", views.job_detail, name="job_detail"),
    path("jobs/<int:pk>/progress/", views.job_progress_json, name="job_progress"),
]
