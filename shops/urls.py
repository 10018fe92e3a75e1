from django.urls import path

from . import views

app_name = "shops"

urlpatterns = [
    path("webhooks/<str:token>/", views.webhook, name="webhook"),
]
