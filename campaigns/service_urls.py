"""The email service's tracking webhook (campaigns.email_services): only for the service the
CRM sends through (CRM_EMAIL_SERVICE; any other answers 404), tracking only (no inbound
email), verified by django-anymail's view for that service."""
from anymail.webhooks.amazon_ses import AmazonSESTrackingWebhookView
from anymail.webhooks.brevo import BrevoTrackingWebhookView
from anymail.webhooks.mailgun import MailgunTrackingWebhookView
from anymail.webhooks.postmark import PostmarkTrackingWebhookView
from anymail.webhooks.sendgrid import SendGridTrackingWebhookView
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

app_name = "email_services"

VIEWS = {
    "amazon_ses": AmazonSESTrackingWebhookView.as_view(),
    "brevo": BrevoTrackingWebhookView.as_view(),
    "mailgun": MailgunTrackingWebhookView.as_view(),
    "postmark": PostmarkTrackingWebhookView.as_view(),
    "sendgrid": SendGridTrackingWebhookView.as_view(),
}


@csrf_exempt
@login_not_required
def tracking(request: HttpRequest, service: str) -> HttpResponse:
    if service != settings.CRM_EMAIL_SERVICE or service not in VIEWS:
        raise Http404("Not the email service this CRM sends through")
    return VIEWS[service](request)


urlpatterns = [
    path(f"{service}/tracking/", tracking, {"service": service}, name=service)
    for service in VIEWS
]
