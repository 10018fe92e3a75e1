"""In real Chromium: a manager adds a store (the stub platform, against its local fake API),
tests the connection, starts a back-fill, watches a job's bar move and sees the stores page;
no page logs a console error (a Content Security Policy violation is one)."""
import pytest
from django.urls import reverse
from playwright.sync_api import expect

from crm.tests.browser import follow, log_in, screenshot
from shops.models import Store, SyncJob

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_connects_a_store_and_follows_it(page, manager, stub_api):
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))

    log_in(page, "marta")
    follow(page, page.get_by_role("link", name="Stores"))
    expect(page.get_by_test_id("no-stores")).to_be_visible()
    follow(page, page.get_by_test_id("store-add"))
    follow(page, page.get_by_role("link", name="Stub shop", exact=True))
    page.get_by_label("Name").fill("Web <b>shop</b>")
    page.get_by_label("Key").fill("web")
    page.get_by_label("Store address").fill(stub_api.base_url)
    page.get_by_label("API token").fill("good-token")
    page.get_by_label("Webhook secret").fill("hook-secret")
    follow(page, page.get_by_role("button", name="Add the store"))

    store = Store.objects.get()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Web <b>shop</b>")
    assert page.get_by_test_id("webhook-url").input_value().endswith(
        f"/shops/webhooks/{store.webhook_token}/")
    expect(page.get_by_test_id("webhook-topics")).to_contain_text("order.created")

    follow(page, page.get_by_test_id("test-connection"))
    expect(page.get_by_role("status").first).to_contain_text("Connected to Stub Shop.")
    expect(page.get_by_test_id("last-error")).to_have_text("None")

    stub_api.expire_credentials()
    follow(page, page.get_by_test_id("test-connection"))
    expect(page.get_by_test_id("last-error")).to_contain_text("Credentials refused")
    screenshot(page, "store-detail")

    follow(page, page.get_by_test_id("backfill"))
    assert SyncJob.objects.filter(store=store, kind="backfill").count() == 1
    expect(page.get_by_test_id("job-status")).to_be_visible()

    # A job under way: its bar follows the JSON as the job moves.
    job = SyncJob.objects.create(store=store, kind="poll", status="running",
                                 orders_seen=20, total=80)
    page.goto(reverse("stores:job_detail", args=[job.pk]))
    expect(page.locator("progress")).to_have_attribute("value", "25")
    SyncJob.objects.filter(pk=job.pk).update(orders_seen=40)
    expect(page.locator("progress")).to_have_attribute("value", "50", timeout=8000)
    expect(page.locator("[data-field=orders_seen]")).to_have_text("40")

    follow(page, page.get_by_role("link", name="Stores"))
    row = page.locator("[data-store=web]")
    expect(row).to_contain_text("Stub shop")
    expect(row).to_contain_text("Credentials refused")
    expect(row.locator("progress")).to_have_count(1)
    screenshot(page, "store-list")
    assert errors == []
