"""campaigns.hooks (and the activity hook campaigns answers): after
django.setup(), each is registered exactly once, by the app that owns the data, in
INSTALLED_APPS order (Django calls ready() in that order: feedback, then support)."""
from activity import hooks as activity_hooks
from campaigns import hooks


def registered(hook) -> list[str]:
    return [f"{function.__module__}.{function.__qualname__}" for function in hook]


def test_the_apps_above_campaigns_register_once_each_in_installed_apps_order():
    assert registered(hooks.audience_allowed) == ["feedback.selectors.promotion_pause_q"]
    assert registered(hooks.audience_criteria) == [
        "feedback.campaign_hooks._audience_q", "support.campaign_hooks._audience_q"]
    assert registered(hooks.send_blocks) == ["feedback.selectors.promotions_paused"]
    assert registered(hooks.survey_contexts) == ["feedback.emails.survey_contexts"]
    assert registered(hooks.survey_sample) == ["feedback.emails.sample_survey_context"]


def test_campaigns_registers_once_with_the_apps_below_it():
    assert registered(activity_hooks.website_event_recorded) == [
        "campaigns.triggers.website_event_after_commit"]


def test_registering_again_registers_nothing_twice():
    # ready() may run again in tests: each app's registration function, a second time.
    from campaigns import activity_hooks
    from feedback import campaign_hooks as feedback_campaign_hooks
    from support import campaign_hooks as support_campaign_hooks

    for module in (activity_hooks, feedback_campaign_hooks, support_campaign_hooks):
        module.register()

    test_the_apps_above_campaigns_register_once_each_in_installed_apps_order()
    test_campaigns_registers_once_with_the_apps_below_it()
