"""The sales pages, under /contacts/ beside customers' import pages (crm/urls.py)."""
from django.urls import path

from . import bulk_views, follow_up_views, views

app_name = "dashboard"

urlpatterns = [
    path("", views.ContactListView.as_view(), name="contact_list"),
    path("today/", views.TodayView.as_view(), name="today"),
    path("export.csv", views.ContactExportView.as_view(), name="contact_export"),
    path("bulk/", bulk_views.ContactBulkView.as_view(), name="contact_bulk"),
    path("bulk/jobs/<int:pk>/", bulk_views.BulkJobView.as_view(), name="bulk_job"),
    path("bulk/jobs/<int:pk>/progress.json", bulk_views.BulkJobProgressView.as_view(),
         name="bulk_job_progress"),
    path("kpis/", views.KpiView.as_view(), name="kpis"),
    path("customer-base/", views.CustomerBaseView.as_view(), name="customer_base"),
    path("new/", views.ContactCreateView.as_view(), name="contact_create"),
    path("<int:pk>/", views.ContactDetailView.as_view(), name="contact_detail"),
    path("<int:pk>/edit/", views.ContactEditView.as_view(), name="contact_edit"),
    path("<int:pk>/purchases/new/", views.PurchaseCreateView.as_view(), name="purchase_create"),
    path("<int:pk>/notes/new/", views.NoteCreateView.as_view(), name="note_create"),
    path("<int:pk>/owner/", views.OwnerChangeView.as_view(), name="owner_change"),
    path("<int:pk>/calls/new/", views.CallLogCreateView.as_view(), name="call_log"),
    path("<int:pk>/timeline/", views.ContactTimelineView.as_view(), name="contact_timeline"),
    path("<int:pk>/follow-ups/new/", views.FollowUpCreateView.as_view(), name="follow_up_create"),
    path("follow-ups/", views.MyFollowUpsView.as_view(), name="my_follow_ups"),
    path("follow-ups/<int:pk>/done/", views.follow_up_toggle, name="follow_up_toggle"),
    path("follow-ups/<int:pk>/edit/", follow_up_views.FollowUpEditView.as_view(),
         name="follow_up_edit"),
]
