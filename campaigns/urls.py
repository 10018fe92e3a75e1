from django.urls import path

from . import click_views, views

app_name = "campaigns"

urlpatterns = [
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("c/<str:token>/", click_views.click, name="click"),
    path("o/<str:token>/", click_views.email_open, name="open"),
    path("sent/", views.sent_email_list, name="sent_email_list"),
    path("sent/<int:pk>/", views.sent_email_detail, name="sent_email_detail"),
    path("sent/<int:pk>/html/", views.sent_email_html, name="sent_email_html"),
    path("deliverability/", views.deliverability, name="deliverability"),
    path("deliverability/resume/", views.sending_resume_view, name="sending_resume"),
]
