"""The shop's settings: environment over the saved row over defaults; the settings page, its
first run, its suggestions and its refusal once purchases exist."""
import pytest
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from crm.models import ShopSettings
from crm.shop import shop, shop_cache_clear, shop_settings_save, suggestions
from crm.tests.test_csp import assert_strict
from customers.tests.factories import ContactFactory, record_purchase

pytestmark = pytest.mark.django_db

TURKISH_SHOP = {"name": "Kahve Dükkanı", "base_currency": "TRY", "time_zone": "Europe/Istanbul",
                "default_language": "tr", "sender_name": "Kahve Dükkanı",
                "sender_email": "merhaba@kahve.example"}


def test_without_a_saved_row_the_settings_defaults_apply(settings):
    settings.CRM_BASE_CURRENCY, settings.TIME_ZONE = "USD", "UTC"
    settings.DEFAULT_FROM_EMAIL, settings.LANGUAGE_CODE = "CRM <crm@localhost>", "en"

    current = shop()

    assert (current.base_currency, current.time_zone, current.default_language,
            current.from_email, current.saved) == ("USD", "UTC", "en", "CRM <crm@localhost>",
                                                   False)


def test_a_saved_row_wins_over_the_defaults():
    shop_settings_save(values=TURKISH_SHOP)

    current = shop()

    assert (current.name, current.base_currency, current.time_zone, current.default_language,
            current.saved) == ("Kahve Dükkanı", "TRY", "Europe/Istanbul", "tr", True)
    assert current.from_email == "Kahve Dükkanı <merhaba@kahve.example>"


def test_the_environment_wins_over_the_saved_row(settings):
    shop_settings_save(values=TURKISH_SHOP)
    settings.CRM_SHOP_SET_BY_DEPLOYMENT = frozenset({"CRM_BASE_CURRENCY", "DEFAULT_FROM_EMAIL"})
    settings.CRM_BASE_CURRENCY, settings.DEFAULT_FROM_EMAIL = "EUR", "Ops <ops@shop.example>"

    current = shop()

    assert (current.base_currency, current.from_email, current.time_zone) == (
        "EUR", "Ops <ops@shop.example>", "Europe/Istanbul")
    assert current.set_by_deployment == {"base_currency", "sender_name", "sender_email"}


def test_saving_keeps_the_deployments_values(settings):
    settings.CRM_SHOP_SET_BY_DEPLOYMENT = frozenset({"CRM_TIME_ZONE"})
    settings.TIME_ZONE = "Europe/Berlin"

    shop_settings_save(values=TURKISH_SHOP)

    assert ShopSettings.objects.get().time_zone == "Europe/Berlin"


def test_a_change_saved_elsewhere_is_seen_once_the_cache_is_cleared():
    shop_settings_save(values=TURKISH_SHOP)
    ShopSettings.objects.update(name="Another name")  # another process's save
    assert shop().name == "Kahve Dükkanı"  # cached for crm.shop.CACHE_SECONDS

    shop_cache_clear()

    assert shop().name == "Another name"


@pytest.mark.parametrize(("field", "value"), [
    ("base_currency", "TLX"), ("base_currency", "XXX"), ("time_zone", "Europe/Atlantis"),
    ("default_language", "xx"), ("sender_email", "not an address"), ("name", "  "),
])
def test_bad_values_are_refused_naming_the_field(field, value):
    with pytest.raises(ValidationError) as refused:
        shop_settings_save(values={**TURKISH_SHOP, field: value})

    assert list(refused.value.message_dict) == [field]
    assert not ShopSettings.objects.exists()


@pytest.mark.parametrize("field", ["base_currency", "time_zone"])
def test_currency_and_time_zone_cannot_change_once_purchases_are_stored(field):
    record_purchase(ContactFactory())

    with pytest.raises(ValidationError) as refused:
        shop_settings_save(values={**TURKISH_SHOP, "base_currency": "USD", "time_zone": "UTC",
                                   field: TURKISH_SHOP[field]})

    assert "Purchases are stored" in refused.value.message_dict[field][0]
    assert not ShopSettings.objects.exists()


def test_other_fields_still_change_once_purchases_are_stored():
    record_purchase(ContactFactory())

    shop_settings_save(values={**TURKISH_SHOP, "base_currency": "USD", "time_zone": "UTC"})

    assert (shop().name, shop().default_language, shop().base_currency) == (
        "Kahve Dükkanı", "tr", "USD")


@pytest.mark.parametrize(("header", "expected"), [
    ("tr-TR,tr;q=0.9,en;q=0.8", ("TRY", "Europe/Istanbul", "tr")),
    ("tr", ("TRY", "Europe/Istanbul", "tr")),
    ("de-DE,de;q=0.9", ("EUR", "Europe/Berlin", "en")),
    ("de-AT", ("EUR", "Europe/Vienna", "en")),
    ("en-GB,en;q=0.5", ("GBP", "Europe/London", "en")),
    ("en-US,en", ("USD", "America/New_York", "en")),
])
def test_suggestions_follow_the_browsers_language(header, expected):
    suggested = suggestions(header)

    assert (suggested["base_currency"], suggested["time_zone"],
            suggested["default_language"]) == expected


@pytest.mark.parametrize("header", ["", "*", "xx", "en;q=bad"])
def test_no_suggestion_without_a_country(header):
    assert suggestions(header) == {"default_language": "en"}


# --- The page and the first run --------------------------------------------------------------

def test_a_manager_is_sent_to_the_settings_page_once_after_logging_in(client, manager):
    client.force_login(manager)

    first, second = client.get(reverse("home")), client.get(reverse("home"))

    assert first["Location"] == reverse("shop_settings")
    assert second["Location"] == reverse("dashboard:today")


def test_not_once_the_settings_are_saved(client, manager):
    shop_settings_save(values=TURKISH_SHOP)
    client.force_login(manager)

    assert client.get(reverse("home"))["Location"] == reverse("dashboard:today")


def test_sales_staff_are_never_sent_there(sales_client):
    assert sales_client.get(reverse("home"))["Location"] == reverse("dashboard:today")


@pytest.mark.parametrize("path", ["/healthz", "/api/schema/", "/contacts/"])
def test_other_addresses_never_redirect_to_it(client, manager, path):
    client.force_login(manager)

    response = client.get(path)

    assert reverse("shop_settings") not in response.get("Location", "")


def test_sales_staff_cannot_open_or_post_the_page(sales_client):
    assert sales_client.get(reverse("shop_settings")).status_code == 403
    assert sales_client.post(reverse("shop_settings"), TURKISH_SHOP).status_code == 403
    assert not ShopSettings.objects.exists()


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(reverse("shop_settings"))

    assert response["Location"].startswith("/login/")


def test_a_turkish_browsers_first_run_suggests_a_turkish_shop(client, manager):
    client.force_login(manager)

    response = client.get(reverse("shop_settings"), HTTP_ACCEPT_LANGUAGE="tr-TR,tr;q=0.9")

    form = response.context["form"]
    assert response.context["first_run"]
    assert (form["base_currency"].value(), form["time_zone"].value(),
            form["default_language"].value()) == ("TRY", "Europe/Istanbul", "tr")


def test_once_purchases_exist_the_first_run_suggests_only_what_may_change(client, manager):
    record_purchase(ContactFactory())
    client.force_login(manager)

    response = client.get(reverse("shop_settings"), HTTP_ACCEPT_LANGUAGE="tr-TR")

    form = response.context["form"]
    assert (form["base_currency"].value(), form["time_zone"].value(),
            form["default_language"].value()) == ("USD", "UTC", "tr")
    assert "Kayıtlı satın almalar var" in response.content.decode()  # "Purchases are stored"


def test_the_manager_saves_the_settings(client, manager):
    client.force_login(manager)

    response = client.post(reverse("shop_settings"), TURKISH_SHOP)

    assert response["Location"] == reverse("shop_settings")
    saved = ShopSettings.objects.get()
    assert (saved.base_currency, saved.updated_by) == ("TRY", manager)
    assert shop().time_zone == "Europe/Istanbul"


def test_the_page_refuses_a_currency_change_with_the_reason(client, manager):
    record_purchase(ContactFactory())
    client.force_login(manager)

    response = client.post(reverse("shop_settings"), TURKISH_SHOP)

    assert response.status_code == 200
    assert "Purchases are stored" in response.content.decode()
    assert response.context["form"].errors["base_currency"]
    assert not ShopSettings.objects.exists()


def test_values_set_by_the_deployment_are_shown_read_only(client, manager, settings):
    settings.CRM_SHOP_SET_BY_DEPLOYMENT = frozenset({"CRM_BASE_CURRENCY"})
    settings.CRM_BASE_CURRENCY = "EUR"
    client.force_login(manager)

    response = client.get(reverse("shop_settings"), HTTP_ACCEPT_LANGUAGE="tr")

    field = response.context["form"]["base_currency"]
    assert field.field.disabled and field.value() == "EUR"
    # "Set by the deployment (CRM_BASE_CURRENCY)", in the Turkish browser's language
    assert "Kurulum tarafından belirlenmiş (CRM_BASE_CURRENCY)" in response.content.decode()


def test_the_page_escapes_the_shop_name(client, manager):
    shop_settings_save(values={**TURKISH_SHOP, "name": "<script>alert(1)</script>"})
    client.force_login(manager)

    body = client.get(reverse("shop_settings")).content.decode()

    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_managers_see_the_page_in_the_navigation(client, manager, sales_user):
    sales = Client()
    client.force_login(manager)
    sales.force_login(sales_user)

    assert reverse("shop_settings") in client.get(reverse("dashboard:today")).content.decode()
    assert reverse("shop_settings") not in sales.get(reverse("dashboard:today")).content.decode()


@pytest.mark.parametrize("url", ["/shop/", "/shop/schedules/",
                                 "/admin/django_celery_beat/periodictask/",
                                 "/admin/django_celery_beat/crontabschedule/"])
def test_the_pages_send_the_strict_policy(client, manager, url):
    client.force_login(manager)

    response = client.get(url)

    assert response.status_code == 200
    assert_strict(response)


def test_the_page_needs_the_csrf_token(manager):
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)

    assert client.post(reverse("shop_settings"), TURKISH_SHOP).status_code == 403
    assert not ShopSettings.objects.exists()


def test_pages_count_today_in_the_shops_time_zone(sales_client, monkeypatch):
    from django.utils import timezone

    from crm import views

    shop_settings_save(values=TURKISH_SHOP)
    seen = []
    monkeypatch.setattr(views, "redirect", lambda *args: seen.append(
        timezone.get_current_timezone_name()) or HttpResponse())

    sales_client.get(reverse("home"))

    assert seen == ["Europe/Istanbul"]
    assert timezone.get_current_timezone_name() == "UTC"  # back to Django's after the page


def test_tasks_count_today_in_the_shops_time_zone():
    from celery import shared_task
    from django.utils import timezone

    @shared_task(name="crm.tests.zone_probe")
    def zone_probe() -> str:
        return timezone.get_current_timezone_name()

    shop_settings_save(values=TURKISH_SHOP)

    assert zone_probe.delay().get() == "Europe/Istanbul"  # eager in tests, as a worker runs it
    assert timezone.get_current_timezone_name() == "UTC"
