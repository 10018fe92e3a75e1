"""In real Chromium: staff open a case from their list, type a reply and send it; the customer
gets it by email (a real SMTP server) with a reply address that brings their answer back, and
the answer, received as the mail server would hand it over, appears on the same case."""
import io
from email.message import EmailMessage

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from campaigns.tests.smtp import smtp_sink  # noqa: F401 - the fixture
from crm.tests.browser import follow, log_in, screenshot
from customers.tests.factories import ContactFactory
from support.models import Case
from support.services import case_open
from support.tokens import case_reply_token

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_reply_from_the_case_and_the_answer_comes_back_to_it(
        page, sales_user, smtp_sink, settings, monkeypatch):
    settings.CRM_SUPPORT_REPLY_ADDRESS = "help@shop.example"
    contact = ContactFactory(email="ayse@example.com", first_name="Ayşe", last_name="Yılmaz",
                             owner=sales_user)
    case = case_open(contact=contact, subject="Broken zip", description="The zip broke.",
                     channel=Case.Channel.WEB, owner=sales_user)
    log_in(page, "sally")

    page.goto("/cases/")
    follow(page, page.get_by_role("link", name="Broken zip"))
    expect(page.get_by_test_id("case-opening")).to_contain_text("The zip broke.")
    page.get_by_label("Your reply").fill("A new zip is on its way. <script>alert(1)</script>")
    follow(page, page.get_by_role("button", name="Send reply"))

    expect(page.get_by_text("Reply sent to ayse@example.com.")).to_be_visible()
    message = page.get_by_test_id("case-message")
    expect(message).to_have_attribute("data-direction", "out")
    expect(message).to_contain_text("A new zip is on its way. <script>alert(1)</script>")
    expect(page.get_by_test_id("first-answer")).not_to_contain_text("Not yet")
    assert smtp_sink.wait_for(1)
    mail = smtp_sink.received[0].message
    reply_to = str(mail["Reply-To"])
    assert smtp_sink.received[0].rcpt_tos == ("ayse@example.com",)
    assert reply_to == f"help+{case_reply_token(case.pk)}@shop.example"

    # The customer answers; the mail server pipes it to receive_email.
    answer = EmailMessage()
    answer["From"] = "Ayşe Yılmaz <ayse@example.com>"
    answer["To"] = reply_to
    answer["Subject"] = f"Re: {mail['Subject']}"
    answer["Message-ID"] = "<answer@customer.example>"
    answer["In-Reply-To"] = str(mail["Message-ID"])
    answer.set_content("Thank you, it fits now.")
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(answer.as_bytes())))
    call_command("receive_email", stdout=io.StringIO())

    page.reload()
    messages = page.get_by_test_id("case-message")
    expect(messages).to_have_count(2)
    expect(messages.nth(1)).to_have_attribute("data-direction", "in")
    expect(messages.nth(1)).to_contain_text("Thank you, it fits now.")
    expect(page.get_by_test_id("case-status")).to_have_text("Open")
    assert Case.objects.count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    screenshot(page, "support-case-thread")
