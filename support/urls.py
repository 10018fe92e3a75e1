from django.urls import path

from . import views

app_name = "support"

urlpatterns = [
    path("", views.MyCasesView.as_view(), name="my_cases"),
    path("contact-us/", views.public_case, name="public_case"),
    path("contact-us/confirm/<str:token>/", views.public_confirm, name="public_confirm"),
    path("contacts/<int:contact_id>/new/", views.case_create, name="case_create"),
    path("<int:pk>/status/", views.case_status, name="case_status"),
    path("<int:pk>/", views.case_detail, name="case_detail"),
    path("<int:pk>/reply/", views.case_reply, name="case_reply"),
]
