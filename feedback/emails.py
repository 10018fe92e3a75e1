"""What a survey email needs beyond the campaigns context: the eleven signed score links.

campaigns.rendering builds every outbox row's context; for survey rows it adds
`"survey": survey_contexts(messages).get(message.pk)` through campaigns.hooks.survey_contexts
(feedback/campaign_hooks.py registers it; see feedback/README.md).
"""
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Message

from .models import SurveyInvite
from .nps import SCORES
from .tokens import survey_token, survey_token_max_age


def survey_url(invite_id: int, score: int) -> str:
    path = reverse("feedback:answer", args=[survey_token(invite_id, score)])
    return settings.CRM_PUBLIC_URL.rstrip("/") + path


def survey_context(invite: SurveyInvite) -> dict:
    """Plain data for the template: links 0..10 and the day the links stop working."""
    return {
        "links": [{"score": score, "url": survey_url(invite.pk, score)} for score in SCORES],
        "closes_on": timezone.localdate(invite.created_at + survey_token_max_age()),
    }


def sample_survey_context() -> dict:
    """What a survey email's links look like before any invitation exists (previews, test
    sends): the same shape, links that say SAMPLE and lead to the "link not valid" page."""
    public = settings.CRM_PUBLIC_URL.rstrip("/")
    return {
        "links": [{"score": score,
                   "url": public + reverse("feedback:answer", args=[f"SAMPLE-{score}"])}
                  for score in SCORES],
        "closes_on": timezone.localdate() + survey_token_max_age(),
    }


def survey_contexts(messages: list[Message]) -> dict[int, dict]:
    """{message id: survey context} for the survey rows among `messages`, in one query."""
    invites = SurveyInvite.objects.filter(message_id__in=[m.pk for m in messages])
    return {invite.message_id: survey_context(invite) for invite in invites}
