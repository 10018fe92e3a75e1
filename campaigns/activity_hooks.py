"""What campaigns does when activity records website events (registered in
CampaignsConfig.ready()).

activity never imports campaigns: it calls activity.hooks, and these functions answer.
"""
from activity import hooks

from .triggers import website_event_after_commit


def register() -> None:
    hooks.website_event_recorded.register(website_event_after_commit)
