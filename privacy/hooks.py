"""Where the apps built on privacy act on a data-subject request.

privacy sits below campaigns (campaigns records consent withdrawals with privacy's
ConsentMethod), so it never imports campaigns. The same registry as customers.hooks (same
Hook, same rules: INSTALLED_APPS order, errors propagate, a second registration is ignored, no
function registered does nothing); apps register from their `AppConfig.ready()`.
"""
from __future__ import annotations

from customers.hooks import Hook

# (email) -> None. A contact was erased (privacy.services.contact_erase), inside its
# transaction, after the consent withdrawal and before the privacy log entry; `email` is the
# erased contact's placeholder address.
# campaigns: suppress the placeholder, so the shell is never in an audience or sent to.
contact_erased: Hook[[str], None] = Hook("contact_erased")
