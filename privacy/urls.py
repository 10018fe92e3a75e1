from django.urls import path

from . import views

app_name = "privacy"

urlpatterns = [
    path("contacts/<int:pk>/", views.PrivacyContactView.as_view(), name="contact"),
    path("contacts/<int:pk>/export.json", views.ExportJsonView.as_view(), name="export_json"),
    path("contacts/<int:pk>/export.zip", views.ExportCsvView.as_view(), name="export_csv"),
    path("contacts/<int:pk>/erase/", views.EraseView.as_view(), name="erase"),
]
