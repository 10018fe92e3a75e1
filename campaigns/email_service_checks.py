"""System checks for sending through an email service (CRM_EMAIL_SERVICE)."""
from django.conf import settings
from django.core.checks import Error, Tags, register

# What each service cannot send without (anymail's setting names, without the ANYMAIL_ prefix).
REQUIRED = {
    "amazon_ses": (),  # boto3 finds AWS credentials itself (environment, instance role)
    "mailgun": ("MAILGUN_API_KEY",),
    "postmark": ("POSTMARK_SERVER_TOKEN",),
    "sendgrid": ("SENDGRID_API_KEY",),
    "brevo": ("BREVO_API_KEY",),
}


@register()
def check_email_service(app_configs=None, **kwargs) -> list[Error]:
    """campaigns.E002: an email service chosen without what it needs to send."""
    service = getattr(settings, "CRM_EMAIL_SERVICE", "")
    if not service:
        return []
    missing = [name for name in REQUIRED.get(service, ())
               if not settings.ANYMAIL.get(name)]
    if not missing:
        return []
    return [Error(f"CRM_EMAIL_SERVICE={service} but {', '.join(missing)} is not set: no email "
                  "can be sent.",
                  hint="Set it in the environment (docs/email-delivery.md, \"Sending through "
                       "an email service\").", id="campaigns.E002")]


@register(Tags.security, deploy=True)
def check_email_service_webhooks(app_configs=None, **kwargs) -> list[Error]:
    """campaigns.E003: an email service without a webhook secret hears no bounce or
    complaint, and sending on regardless harms the sending domain's reputation."""
    if not getattr(settings, "CRM_EMAIL_SERVICE", "") or settings.CRM_EMAIL_SERVICE_WEBHOOK_SECRET:
        return []
    return [Error("CRM_EMAIL_SERVICE is set but CRM_EMAIL_SERVICE_WEBHOOK_SECRET is not: the "
                  "service's bounce, complaint and unsubscribe webhooks are refused, so "
                  "bounced and complaining addresses would keep being emailed.",
                  hint="Set CRM_EMAIL_SERVICE_WEBHOOK_SECRET to \"user:long-random-password\" "
                       "and give the service the webhook URL with them "
                       "(docs/email-delivery.md).", id="campaigns.E003")]
