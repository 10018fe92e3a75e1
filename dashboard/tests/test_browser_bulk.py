"""In real Chromium (#19 point 4): a salesperson ticks contacts on the list, gives them to a
colleague, and sees the new owner in the list; a whole-page selection shows its count."""
import pytest
from playwright.sync_api import expect

from accounts.tests.factories import SalesStaffFactory
from crm.tests.browser import follow, log_in, screenshot
from customers.models import Contact
from customers.tests.factories import ContactFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sales_staff_tick_contacts_and_give_them_to_a_colleague(page, sales_user):
    SalesStaffFactory(username="sam", first_name="Sam", last_name="Seller")
    ayse = ContactFactory(first_name="Ayşe", last_name="Yılmaz")
    can = ContactFactory(first_name="Can", last_name="Demir")
    left = ContactFactory(first_name="Deniz", last_name="Kaya")

    log_in(page, "sally")
    page.goto("/contacts/")
    page.get_by_label("Select Ayşe Yılmaz").check()
    page.get_by_label("Select Can Demir").check()
    expect(page.get_by_test_id("bulk-count")).to_have_text("2 ticked")
    page.get_by_test_id("bulk-action").select_option("assign")
    expect(page.get_by_label("Staff member")).to_be_visible()
    expect(page.get_by_label("What to do")).to_be_hidden()
    page.get_by_label("Staff member").select_option(label="Sam Seller")
    screenshot(page, "bulk-assign")
    follow(page, page.get_by_test_id("bulk-apply"))

    expect(page.get_by_role("status").first).to_have_text("2 contacts given to Sam Seller.")
    expect(page.get_by_role("row", name="Ayşe Yılmaz")).to_contain_text("Sam Seller")
    expect(page.get_by_role("row", name="Can Demir")).to_contain_text("Sam Seller")
    expect(page.get_by_role("row", name="Deniz Kaya")).not_to_contain_text("Sam Seller")
    owners = dict(Contact.objects.values_list("pk", "owner__username"))
    assert (owners[ayse.pk], owners[can.pk], owners[left.pk]) == ("sam", "sam", None)
    screenshot(page, "bulk-assigned")


def test_select_all_on_the_page_and_a_follow_up_for_each(page, sales_user):
    ContactFactory.create_batch(3)

    log_in(page, "sally")
    page.goto("/contacts/")
    page.get_by_label("Select all on this page").check()
    expect(page.get_by_test_id("bulk-count")).to_have_text("3 ticked")
    page.get_by_test_id("bulk-action").select_option("follow_up")
    page.get_by_label("What to do").fill("Call about the new collection")
    follow(page, page.get_by_test_id("bulk-apply"))

    expect(page.get_by_role("status").first).to_have_text("Follow-up added to 3 contacts.")
    assert sales_user.follow_ups.count() == 3
