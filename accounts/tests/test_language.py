"""Staff choose their language in the menu bar; it is kept on the user, so it follows them to
every page and every later login. Pages without a login follow the browser."""
import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from customers.tests.factories import ContactFactory, record_purchase

pytestmark = pytest.mark.django_db

SWITCH_URL = "/account/language/"
PASSWORD = "correct-horse-battery"


def switch(client: Client, language: str, next_url: str = "/contacts/"):
    return client.post(SWITCH_URL, {"language": language, "next": next_url})


# --- Switching ------------------------------------------------------------------------------
def test_the_switch_url_is_named_language_update():
    assert reverse("language_update") == SWITCH_URL


def test_switching_saves_the_choice_sets_the_cookie_and_goes_back(client, sales_user):
    client.force_login(sales_user)

    response = switch(client, "tr", next_url="/contacts/?stage=prospect")

    assert (response.status_code, response["Location"]) == (302, "/contacts/?stage=prospect")
    assert User.objects.get(pk=sales_user.pk).language == "tr"
    assert response.cookies["django_language"].value == "tr"


def test_switching_back_to_english(client, sales_user):
    sales_user.language = "tr"
    sales_user.save()
    client.force_login(sales_user)

    switch(client, "en")

    assert User.objects.get(pk=sales_user.pk).language == "en"
    assert "Who to call today" in client.get("/contacts/today/").content.decode()


def test_an_unknown_language_is_refused_and_nothing_changes(client, sales_user):
    client.force_login(sales_user)

    response = switch(client, "xx")

    assert response.status_code == 400
    assert User.objects.get(pk=sales_user.pk).language == ""


def test_an_outside_next_url_is_not_followed(client, sales_user):
    client.force_login(sales_user)

    response = switch(client, "tr", next_url="https://evil.example.com/")

    assert response["Location"] == "/"


def test_switching_needs_a_login(client, sales_user):
    response = switch(client, "tr")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert User.objects.get(pk=sales_user.pk).language == ""


def test_switching_needs_the_csrf_token(sales_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(sales_user)

    response = switch(client, "tr")

    assert response.status_code == 403
    assert User.objects.get(pk=sales_user.pk).language == ""


def test_switching_is_post_only(client, sales_user):
    client.force_login(sales_user)

    assert client.get(SWITCH_URL, {"language": "tr"}).status_code == 405


def test_the_navbar_offers_each_language_in_its_own_name_with_the_current_one_selected(
        client, sales_user):
    client.force_login(sales_user)
    switch(client, "tr")

    html = client.get("/contacts/today/").content.decode()

    assert f'action="{SWITCH_URL}"' in html
    assert '<option value="en" lang="en">English</option>' in html
    assert '<option value="tr" lang="tr" selected>Türkçe</option>' in html


# --- What a Turkish-speaking user sees ------------------------------------------------------
@pytest.fixture
def turkish_client(client, sales_user):
    client.force_login(sales_user)
    switch(client, "tr")
    return client


def page_text(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_today_is_in_turkish(turkish_client):
    html = page_text(turkish_client, "/contacts/today/")

    assert '<html lang="tr">' in html
    assert "Bugün kimi aramalı" in html
    assert "Vadesi gelen takip görevleri" in html
    assert "Çıkış yap" in html
    assert "Who to call today" not in html
    assert "Log out" not in html


def test_the_contact_list_is_in_turkish(turkish_client):
    ContactFactory(first_name="Ayşe", last_name="Yılmaz")

    html = page_text(turkish_client, "/contacts/")

    assert "<h1" in html and "Kişiler</h1>" in html
    assert "Ayşe" in html
    assert ">Contacts<" not in html


def test_a_contact_page_is_in_turkish(turkish_client):
    contact = ContactFactory(first_name="Ayşe", last_name="Yılmaz")
    record_purchase(contact, days_ago=3, amount="40.00")

    html = page_text(turkish_client, f"/contacts/{contact.pk}/")

    assert "Satın alma geçmişi" in html
    assert "Tek seferlik alıcı" in html  # the stage, a model choice
    assert "Purchase history" not in html
    assert "One-time buyer" not in html
    # The purchase form, one button away: the crispy form's button comes from Python.
    form = page_text(turkish_client, f"/contacts/{contact.pk}/purchases/new/")
    assert "Satın almayı kaydet" in form and "Record purchase" not in form


def test_the_kpi_page_is_in_turkish(turkish_client):
    html = page_text(turkish_client, "/contacts/kpis/")

    assert "KPI&#x27;lar" in html or "KPI'lar" in html
    assert "Aşamalara göre kişiler" in html  # a chart title, from Python
    assert "Contacts by stage" not in html


def test_the_choice_beats_the_browser(turkish_client):
    html = turkish_client.get("/contacts/today/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Bugün kimi aramalı" in html


def test_without_a_choice_the_browser_decides(client, sales_user):
    client.force_login(sales_user)

    html = client.get("/contacts/today/", HTTP_ACCEPT_LANGUAGE="tr").content.decode()

    assert "Bugün kimi aramalı" in html


def test_the_choice_persists_across_logins(client, sales_user):
    client.post("/login/", {"username": "sally", "password": PASSWORD})
    switch(client, "tr")
    client.post("/logout/")

    fresh = Client()  # another browser: no language cookie, no session
    response = fresh.post("/login/", {"username": "sally", "password": PASSWORD}, follow=True)

    assert "Bugün kimi aramalı" in response.content.decode()


# --- Pages without a login ------------------------------------------------------------------
def test_the_login_page_follows_accept_language(client):
    turkish = client.get("/login/", HTTP_ACCEPT_LANGUAGE="tr-TR,tr;q=0.9,en;q=0.5")
    english = Client().get("/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")

    assert "CRM&#x27;e giriş yapın" in turkish.content.decode() \
        or "CRM'e giriş yapın" in turkish.content.decode()
    assert "Log in to the CRM" in english.content.decode()
    assert turkish["Content-Language"] == "tr"


def test_the_unsubscribe_page_follows_accept_language(client):
    response = client.get("/email/unsubscribe/not-a-token/", HTTP_ACCEPT_LANGUAGE="tr")

    assert response.status_code == 400
    assert "Bu abonelikten çıkma bağlantısı geçersiz" in response.content.decode()
