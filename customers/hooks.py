"""Where the apps built on customers react to what customers does, and add to its admin.

customers sits below campaigns, feedback, support, activity, webhooks, privacy and the api, so
it never imports them (customers/tests/test_import_direction.py fails if it does). When
something happens here that a higher app must act on (a purchase recorded, a contact's stage
moved, an import merged), customers calls a hook; each app registers its functions from its
`AppConfig.ready()`, like Wagtail's hooks or Django's AUTHENTICATION_BACKENDS:

    from customers import hooks
    hooks.purchase_created.register(purchase_codes_apply)

Rules, the same for every hook:
- Order: functions run in the order they were registered, i.e. INSTALLED_APPS order (Django
  calls ready() in that order), then registration order inside one ready(). Deterministic.
- Errors propagate to the caller: a hook runs where its docstring says (inside the purchase's
  transaction, or in the worker after commit), so a failure rolls back exactly what it did
  before hooks existed. A hook that must never fail the sale (codes) catches its own errors.
- Registering the same function twice keeps one: ready() may run again in tests.
- A hook with no function registered (an app left out of INSTALLED_APPS) does nothing.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class Hook(Generic[P, R]):
    """A named list of functions that all take the same arguments."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._functions: list[Callable[P, R]] = []

    def register(self, function: Callable[P, R]) -> Callable[P, R]:
        """Add a function (usable as a decorator); a second registration is ignored."""
        if function not in self._functions:
            self._functions.append(function)
        return function

    def unregister(self, function: Callable[P, R]) -> None:
        """For tests that stand in for an app."""
        self._functions.remove(function)

    def __iter__(self) -> Iterator[Callable[P, R]]:
        return iter(tuple(self._functions))

    def __bool__(self) -> bool:
        return bool(self._functions)

    def call(self, *args: P.args, **kwargs: P.kwargs) -> list[R]:
        """Every function's result, in registration order; the first error propagates."""
        return [function(*args, **kwargs) for function in self]

    def merged(self, *args: P.args, **kwargs: P.kwargs) -> dict:
        """For hooks whose functions return dicts: one dict, later apps' keys win."""
        merged: dict = {}
        for part in self.call(*args, **kwargs):
            merged.update(part or {})
        return merged

    def __repr__(self) -> str:
        return f"<Hook {self.name}: {[f.__qualname__ for f in self._functions]}>"


# --- Writes: purchases ----------------------------------------------------------------------

# (purchase) -> code outcome ("" when the function has nothing to say). A new purchase was
# inserted: inside its transaction, its contact locked, before the contact's figures are
# refreshed. PurchaseResult.code_outcome is the first non-empty outcome.
# campaigns: redeem the coupon or record the referral the purchase's code stands for.
purchase_created: Hook[[Any], str] = Hook("purchase_created")

# (purchase) -> code outcome. A purchase's code was corrected (purchase_update), inside the
# transaction, contacts locked. campaigns: undo what the old code did, apply the new one.
purchase_code_changed: Hook[[Any], str] = Hook("purchase_code_changed")

# (purchase, *, at) -> None. A purchase was refunded in full, inside the transaction, before
# the figures are refreshed. campaigns: withdraw an unspent referral reward it earned.
purchase_refunded: Hook[..., None] = Hook("purchase_refunded")

# (contact_id) -> None. In the worker (task customers.purchase_recorded), after the purchase
# committed and the contact was re-scored from the last fitted models.
# campaigns: the purchase events (first purchase, became a repeat client, Nth purchase).
purchase_committed: Hook[[int], None] = Hook("purchase_committed")


@dataclass(frozen=True)
class ImportedPurchases:
    """One import's new purchases, for set-based work (never one call per row).

    `with_code`: a queryset of exactly the purchases this import inserted that carry a code,
    backed by a temporary table of their ids (analysed on PostgreSQL), to be read with a few
    joins, never row by row. The contacts the import touched reach purchases_committed after
    commit. `historical`: the past is being loaded; facts are recorded (codes redeemed,
    referrals noted) but nothing is sent or announced (no emails, webhooks, events, no new
    reward coupons).
    """

    with_code: Any  # QuerySet[customers.Purchase]
    historical: bool


# (batch: ImportedPurchases) -> None. Inside the import's transaction, after the merge and the
# figures refresh, once per import. campaigns: redeem coupons and record referrals in bulk.
purchases_imported: Hook[[ImportedPurchases], None] = Hook("purchases_imported")

# (counts_before: Mapping[contact_id, purchase_count before the import]) -> None. In the
# worker (task customers.purchases_imported, a chunk of contacts at a time), after the import
# committed and the chunk was re-scored; never for a historical import.
# campaigns: the purchase events each contact crossed (first, repeat, Nth) in bulk.
purchases_committed: Hook[[Mapping[int, int]], None] = Hook("purchases_committed")


# --- Writes: stages -------------------------------------------------------------------------

class StageWatcher:
    """What a stage_watch function returns; customers.stats drives it around each chunk of
    contacts whose figures it refreshes. The base class watches nothing."""

    watching = False

    def before(self, contact_ids: list[int]) -> None:
        """Just before the chunk's figures (and so their stages) are recomputed."""

    def after(self, contact_ids: list[int]) -> None:
        """Just after, in the same transaction: emit the changes seen."""

    def created(self, contact_ids: list[int]) -> None:
        """Contacts inserted with their figures already counted (the PostgreSQL import):
        they left "prospect"."""


# () -> StageWatcher. Called once per refresh (contacts_refresh_stats) inside the writer's
# transaction. webhooks: contact.stage_changed deliveries.
stage_watch: Hook[[], StageWatcher] = Hook("stage_watch")


class StageWatchers(StageWatcher):
    """Every registered watcher as one; does nothing (not even a read) if none watches."""

    def __init__(self, watchers: list[StageWatcher]) -> None:
        self.watchers = [watcher for watcher in watchers if watcher.watching]
        self.watching = bool(self.watchers)

    def before(self, contact_ids: list[int]) -> None:
        for watcher in self.watchers:
            watcher.before(contact_ids)

    def after(self, contact_ids: list[int]) -> None:
        for watcher in self.watchers:
            watcher.after(contact_ids)

    def created(self, contact_ids: list[int]) -> None:
        for watcher in self.watchers:
            watcher.created(contact_ids)


def stage_watchers(*, announce: bool = True) -> StageWatcher:
    """The registered watchers as one (none at all when announce is False: a historical
    import changes stages without announcing them)."""
    return StageWatchers(stage_watch.call() if announce else [])


# --- Writes: calls --------------------------------------------------------------------------

# (contact, *, at) -> None. A call was logged as "not interested"
# (customers.services.calls.call_log), inside its transaction. feedback: pause promotional email, as after an unhappy answer.
contact_not_interested: Hook[..., None] = Hook("contact_not_interested")


# --- The admin and the screens: what higher apps add to customers' own doors ---------------
# (The sales pages' reads are the dashboard app's: it sits on top and asks each app itself.)

# () -> list of admin actions for the Contact admin. privacy: export and erase personal data.
contact_admin_actions: Hook[[], list] = Hook("contact_admin_actions")


def contact_admin_actions_all() -> list:
    return [action for actions in contact_admin_actions.call() for action in actions]


@dataclass(frozen=True)
class CodeMessage:
    """How to tell the user what happened to a purchase's code."""

    text: str
    good: bool = False  # redeemed or recorded (an info message), else a warning
    no_code: bool = False  # there was no code: the purchase form says nothing


# (purchase code outcome) -> CodeMessage, or None for an outcome the app does not know.
# campaigns knows its outcomes (campaigns.coupons.CodeOutcome).
code_outcome_label: Hook[[str], CodeMessage | None] = Hook("code_outcome_label")


def code_outcome_message(outcome: str) -> CodeMessage | None:
    """The words for a purchase's code outcome; None for "" or an outcome nobody knows."""
    if not outcome:
        return None
    for answer in code_outcome_label.call(outcome):
        if answer is not None:
            return answer
    return None


# --- Scoring: what the apps above customers know about a contact ---------------------------

# (day: datetime.date, contact_ids: (first, last) id range | list of ids | None for all)
#   -> customers.scoring.model.attributes.Attributes
# Per-contact attributes as of the END of `day` for the covariate model (customers.scoring.
# features): numeric (float, NaN unknown) or categorical (int level codes). Nothing recorded
# after `day` may count: the nightly run asks for several past days and trains on them. One or
# a few set-based queries per call (1M contacts a night), never a query per contact. Called by
# the scoring job, outside any transaction of yours.
# feedback: survey_score; support: open_cases, recent_cases; activity: website_events_30d,
# cart_events_90d; campaigns: emails_sent_90d, email_clicks_90d, unsubscribed, referred,
# first_order_coupon.
scoring_features: Hook[..., Any] = Hook("scoring_features")

# Same signature and result: what contacts had bought by `day` by category or product, from
# order lines. Nothing registers yet: order lines do not exist (a later issue adds them); the
# app that adds them registers here, e.g. a categorical "first_category" and numeric
# "categories_bought".
scoring_products: Hook[..., Any] = Hook("scoring_products")
