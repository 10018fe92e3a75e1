"""Where the apps built on activity react to the website events it records.

activity sits below campaigns (campaigns' audiences and "After a website action" campaigns
read WebsiteEvent and EventKind), so it never imports campaigns. The same registry as
customers.hooks (same Hook, same rules: INSTALLED_APPS order, errors propagate, a second
registration is ignored, no function registered does nothing); apps register from their
`AppConfig.ready()`.
"""
from __future__ import annotations

from customers.hooks import Hook

# (contact_id, kind) -> None. Once per (contact, kind) among the new, recent events of one
# write (activity.services.TRIGGER_MAX_AGE), in (contact_id, kind) order, inside the writer's
# transaction: a function that acts must wait for the commit.
# campaigns: start the "After a website action" campaigns once the transaction commits.
website_event_recorded: Hook[[int, str], None] = Hook("website_event_recorded")
