"""customers.hooks: the order functions run in, duplicates, errors, and who registers what."""
import pytest

from customers import hooks


def test_functions_run_in_registration_order_once_each_and_errors_propagate():
    hook = hooks.Hook("test")
    ran = []

    def first(value):
        ran.append("first")
        return {"a": 1, "b": value}

    def broken(value):
        ran.append("broken")
        raise RuntimeError("no")

    def last(value):
        ran.append("last")
        return {"b": 3}

    for function in (first, last, first):
        hook.register(function)
    assert hook.call(2) == [{"a": 1, "b": 2}, {"b": 3}]
    assert hook.merged(2) == {"a": 1, "b": 3}  # the later app's key wins

    hook.unregister(last)
    hook.register(broken)
    hook.register(last)
    ran.clear()
    with pytest.raises(RuntimeError):
        hook.call(2)
    assert ran == ["first", "broken"]  # what comes after an error does not run


def test_the_apps_register_in_installed_apps_order():
    # Django calls ready() in INSTALLED_APPS order: campaigns, feedback, support, privacy,
    # webhooks, activity.
    # (The sales pages' reads are the dashboard's, which asks each app itself: no hook.)
    assert [f.__module__ for f in hooks.code_outcome_label] == ["campaigns.customer_hooks"]
    assert [f.__module__ for f in hooks.contact_admin_actions] == ["privacy.customer_hooks"]
    assert [f.__module__ for f in hooks.purchase_created] == ["campaigns.coupons",
                                                              "campaigns.journeys"]
    assert [f.__module__ for f in hooks.purchases_imported] == ["campaigns.imported_codes"]
    assert [f.__module__ for f in hooks.purchases_committed] == ["campaigns.purchase_events",
                                                                 "campaigns.journeys"]
    assert [f.__module__ for f in hooks.stage_watch] == ["webhooks.services"]


def test_no_watcher_no_reads():
    assert not hooks.StageWatchers([]).watching
    assert not hooks.stage_watchers(announce=False).watching
