from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    """Listening to customers: satisfaction surveys (NPS) sent through the campaigns outbox."""

    name = "feedback"
    verbose_name = _("Feedback")
