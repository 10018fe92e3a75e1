"""What campaigns does when customers records purchases (registered in CampaignsConfig.ready()).

customers never imports campaigns: it calls customers.hooks, and these functions answer.
"""
from customers import hooks

from .coupons import CodeOutcome, purchase_codes_apply, purchase_codes_reapply
from .imported_codes import imported_codes_apply
from .journeys import purchase_exit, purchases_exit
from .purchase_events import purchases_events_fire
from .referrals import referral_reward_withdraw
from .triggers import purchase_events_fire

_GOOD_NEWS = (CodeOutcome.REDEEMED, CodeOutcome.REFERRAL_RECORDED)


def _withdraw_reward(purchase, *, at) -> None:
    referral_reward_withdraw(purchase, at=at)


def _code_outcome_label(outcome: str) -> hooks.CodeMessage | None:
    if outcome not in CodeOutcome.values:
        return None
    return hooks.CodeMessage(text=CodeOutcome(outcome).label, good=outcome in _GOOD_NEWS,
                             no_code=outcome == CodeOutcome.NO_CODE)


def register() -> None:
    hooks.purchase_created.register(purchase_codes_apply)
    hooks.purchase_created.register(purchase_exit)  # journeys end the moment a contact buys
    hooks.purchase_code_changed.register(purchase_codes_reapply)
    hooks.purchase_refunded.register(_withdraw_reward)
    hooks.purchase_committed.register(purchase_events_fire)
    hooks.purchases_imported.register(imported_codes_apply)
    hooks.purchases_committed.register(purchases_events_fire)
    hooks.purchases_committed.register(purchases_exit)  # an import's buyers leave journeys
    hooks.code_outcome_label.register(_code_outcome_label)
