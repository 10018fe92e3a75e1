from django.urls import path

from .imports import views as import_views

app_name = "customers"

urlpatterns = [
    path("imports/", import_views.ImportUploadView.as_view(), name="import_list"),
    path("imports/<int:pk>/", import_views.ImportPreviewView.as_view(), name="import_preview"),
    path("imports/<int:pk>/start/", import_views.ImportStartView.as_view(), name="import_start"),
    path("imports/<int:pk>/progress/", import_views.ImportProgressView.as_view(),
         name="import_progress"),
    path("imports/<int:pk>/status.json", import_views.ImportStatusView.as_view(),
         name="import_status"),
    path("imports/<int:pk>/rejected.csv", import_views.ImportReportView.as_view(),
         name="import_report"),
]
