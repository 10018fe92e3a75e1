from django.urls import path

from . import views

app_name = "customers"

urlpatterns = [
    path("", views.ContactListView.as_view(), name="contact_list"),
    path("new/", views.ContactCreateView.as_view(), name="contact_create"),
    path("<int:pk>/", views.ContactDetailView.as_view(), name="contact_detail"),
    path("<int:pk>/purchases/new/", views.PurchaseCreateView.as_view(), name="purchase_create"),
]
