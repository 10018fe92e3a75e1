"""Where the apps built on campaigns add to its audiences, checks and emails.

feedback and support sit above campaigns (a survey is a campaign, support's mailbox reads
bounces), so campaigns never imports them. Where campaigns needs what they hold (who answered
a survey, who has an open case, whose promotions are paused, a survey email's links), it calls
a hook here, and each app registers its functions from its `AppConfig.ready()`, in its
`<app>/campaign_hooks.py`:

    from campaigns import hooks
    hooks.audience_criteria.register(audience_q)

The Hook class and its rules are customers.hooks' (registration order = INSTALLED_APPS order,
errors propagate to the caller, a second registration is ignored, a hook with no function
registered does nothing).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Q

from customers.hooks import Hook

# --- Audiences ------------------------------------------------------------------------------

# (now) -> Q on Contact: who may be in any audience right now, whatever the criteria (each
# function's Q is ANDed in, right after the suppression list).
# feedback: contacts whose promotions are not paused after an unhappy answer.
audience_allowed: Hook[[Any], Q] = Hook("audience_allowed")

# (criteria: campaigns.audience.AudienceCriteria) -> Q on Contact for the criteria the app
# gives meaning to (Q() when none of them is set); ANDed in, in registration order.
# feedback: nps_promoter, nps_detractor; support: open_case.
audience_criteria: Hook[[Any], Q] = Hook("audience_criteria")

# --- Sending --------------------------------------------------------------------------------

# (messages, *, now, already) -> {message id: (status, reason)}: outbox rows not to send now,
# after campaigns' own send-time checks (campaigns.outbox.checks.blocked_messages); `already`
# holds the rows blocked so far (each function's answer is added before the next runs).
# feedback: promotions paused after an unhappy answer ("paused:detractor").
send_blocks: Hook[..., Mapping[int, tuple[str, str]]] = Hook("send_blocks")

# --- The `survey` template variable (campaigns.template_needs.SURVEY) -----------------------

# (messages) -> {message id: survey context} for the rows among `messages` that carry survey
# links, in a few queries (campaigns.rendering.message_contexts).
# feedback: the eleven signed score links of each row's invitation.
survey_contexts: Hook[[list], Mapping[int, dict]] = Hook("survey_contexts")

# () -> a survey context with sample links, for previews and test sends (campaigns.preview).
# feedback: links that say SAMPLE.
survey_sample: Hook[[], dict] = Hook("survey_sample")
