"""In real Chromium: a manager's first sign-in from a Turkish browser opens the shop settings
page with a Turkish shop suggested; saving it sets the shop's currency and time zone."""
import pytest
from playwright.sync_api import expect

from crm.shop import shop, shop_cache_clear
from crm.tests.browser import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_turkish_managers_first_sign_in_sets_up_the_shop(browser, live_server, manager):
    context = browser.new_context(base_url=live_server.url, locale="tr-TR",
                                  viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto("/login/")
        page.locator("#id_username").fill("marta")
        page.locator("#id_password").fill("correct-horse-battery")
        page.locator("form button[type=submit]").click()

        page.wait_for_url("**/shop/")
        expect(page.get_by_test_id("shop-first-run")).to_be_visible()
        assert page.locator("#id_base_currency").input_value() == "TRY"
        assert page.locator("#id_time_zone").input_value() == "Europe/Istanbul"
        assert page.locator("#id_default_language").input_value() == "tr"
        screenshot(page, "shop-settings-first-run")
        page.locator("#id_name").fill("Kahve Dükkanı")
        page.locator("#id_sender_email").fill("merhaba@kahve.example")
        page.locator("form.col-lg-6 button[type=submit]").click()
        page.wait_for_url("**/shop/")
        expect(page.get_by_test_id("shop-first-run")).not_to_be_visible()
    finally:
        context.close()

    shop_cache_clear()
    assert (shop().name, shop().base_currency, shop().time_zone) == (
        "Kahve Dükkanı", "TRY", "Europe/Istanbul")
