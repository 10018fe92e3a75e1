"""Bulk actions on the contact list (#19 point 4): ticked rows or the whole filtered list
(re-evaluated on the server), a confirmation above 100 contacts, each action's permission,
CSRF, and the background owner change run twice."""
import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import ManagerFactory, SalesStaffFactory, UserFactory
from campaigns.audience import AudienceCriteria, audience_contacts
from campaigns.models import CampaignMember
from campaigns.tests.factories import CampaignFactory
from customers.models import Contact, FollowUp
from customers.tests.factories import ContactFactory, record_purchase
from dashboard import bulk
from dashboard.models import BulkAssignJob

pytestmark = pytest.mark.django_db
BULK = reverse("dashboard:contact_bulk")
LIST = reverse("dashboard:contact_list")


def _post(client, *, action: str, ids=(), scope: str = "page", query: str = "", **fields):
    data = {"action": action, "scope": scope, "query": query, "ids": [str(i) for i in ids],
            **{name: str(value) for name, value in fields.items()}}
    return client.post(BULK, data)


@pytest.fixture
def manager_client(manager):
    client = Client()
    client.force_login(manager)
    return client


@pytest.fixture
def colleague():
    return SalesStaffFactory(username="sam", first_name="Sam", last_name="Seller")


def _owners(contacts) -> list:
    return [Contact.objects.get(pk=contact.pk).owner_id for contact in contacts]


# --- The page -------------------------------------------------------------------------------

def test_the_list_has_a_bulk_bar_and_a_tick_box_per_row(sales_client):
    contact = ContactFactory()

    html = sales_client.get(LIST).content.decode()

    assert 'id="bulk-form"' in html and 'name="csrfmiddlewaretoken"' in html
    assert f'name="ids" value="{contact.pk}" form="bulk-form"' in html
    assert "data-bulk-page" in html  # select all on this page
    assert "The 1 matching contact" in html
    assert 'value="campaign"' not in html  # sales staff cannot change campaigns


# --- Assign owner ---------------------------------------------------------------------------

def test_sales_staff_give_ticked_contacts_to_a_colleague(sales_client, colleague):
    ticked = [ContactFactory(), ContactFactory()]
    other = ContactFactory()

    response = _post(sales_client, action="assign", ids=[c.pk for c in ticked], user=colleague.pk)

    assert response.status_code == 302
    assert _owners(ticked) == [colleague.pk, colleague.pk]
    assert _owners([other]) == [None]
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["2 contacts given to Sam Seller."]


def test_a_manager_gives_contacts_to_nobody(manager_client, sales_user):
    contacts = [ContactFactory(owner=sales_user), ContactFactory(owner=sales_user)]

    _post(manager_client, action="assign", ids=[c.pk for c in contacts], user="")

    assert _owners(contacts) == [None, None]


def test_an_ineligible_owner_is_refused_and_nothing_changes(sales_client):
    contact = ContactFactory()
    outsider = UserFactory()  # no role

    response = _post(sales_client, action="assign", ids=[contact.pk], user=outsider.pk)

    assert _owners([contact]) == [None]
    assert any("sales staff or manager role" in str(m)
               for m in response.wsgi_request._messages)


def test_the_whole_filtered_list_is_evaluated_on_the_server(sales_client, colleague):
    buyers = [ContactFactory(), ContactFactory()]
    for buyer in buyers:
        record_purchase(buyer, days_ago=5)
    prospect = ContactFactory()

    # The ids sent are ignored for "all": the filters decide.
    _post(sales_client, action="assign", scope="all", query="stage=one_time",
          ids=[prospect.pk], user=colleague.pk)

    assert _owners(buyers) == [colleague.pk, colleague.pk]
    assert _owners([prospect]) == [None]


def test_ticked_ids_count_only_where_the_filters_still_match(sales_client, colleague):
    buyer = ContactFactory()
    record_purchase(buyer, days_ago=5)
    prospect = ContactFactory()

    _post(sales_client, action="assign", query="stage=one_time", ids=[buyer.pk, prospect.pk],
          user=colleague.pk)

    assert _owners([buyer, prospect]) == [colleague.pk, None]


def test_more_than_a_page_of_ticked_ids_is_refused(sales_client, colleague):
    contacts = ContactFactory.create_batch(26)

    _post(sales_client, action="assign", ids=[c.pk for c in contacts], user=colleague.pk)

    assert Contact.objects.filter(owner=colleague).count() == 0


def test_above_100_contacts_a_confirmation_comes_first(sales_client, colleague):
    ContactFactory.create_batch(101)

    page = _post(sales_client, action="assign", scope="all", user=colleague.pk)

    assert page.status_code == 200
    html = page.content.decode()
    assert "Give 101 contacts to Sam Seller?" in html
    assert 'name="confirmed" value="1"' in html
    assert Contact.objects.filter(owner=colleague).count() == 0

    _post(sales_client, action="assign", scope="all", user=colleague.pk, confirmed="1")

    assert Contact.objects.filter(owner=colleague).count() == 101


def test_100_contacts_need_no_confirmation(sales_client, colleague):
    ContactFactory.create_batch(100)

    response = _post(sales_client, action="assign", scope="all", user=colleague.pk)

    assert response.status_code == 302
    assert Contact.objects.filter(owner=colleague).count() == 100


# --- Follow-ups -----------------------------------------------------------------------------

def test_sales_staff_add_a_follow_up_for_themselves(sales_client, sales_user):
    contacts = [ContactFactory(), ContactFactory()]
    due = timezone.localdate() + dt.timedelta(days=2)

    _post(sales_client, action="follow_up", ids=[c.pk for c in contacts], user=sales_user.pk,
          title="Call about the new collection", due_on=due.isoformat())

    follow_ups = FollowUp.objects.order_by("contact_id")
    assert [(f.contact_id, f.assigned_to_id, f.title, f.due_on, f.created_by_id)
            for f in follow_ups] == [
        (c.pk, sales_user.pk, "Call about the new collection", due, sales_user.pk)
        for c in sorted(contacts, key=lambda c: c.pk)]


def test_a_manager_gives_the_follow_ups_to_a_colleague(manager_client, colleague):
    contact = ContactFactory()

    _post(manager_client, action="follow_up", ids=[contact.pk], user=colleague.pk,
          title="Visit", due_on=timezone.localdate().isoformat())

    assert FollowUp.objects.get().assigned_to == colleague


def test_a_follow_up_without_a_title_is_refused(sales_client, sales_user):
    contact = ContactFactory()

    response = _post(sales_client, action="follow_up", ids=[contact.pk], user=sales_user.pk,
                     title=" ", due_on=timezone.localdate().isoformat())

    assert not FollowUp.objects.exists()
    assert any("Say what to do" in str(m) for m in response.wsgi_request._messages)


# --- Export ---------------------------------------------------------------------------------

def test_export_of_the_ticked_rows_only(sales_client):
    ticked = ContactFactory(last_name="Kaya")
    ContactFactory(last_name="Hidden")

    response = _post(sales_client, action="export", ids=[ticked.pk])

    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "Kaya" in body and "Hidden" not in body


def test_export_of_the_whole_filtered_list(sales_client):
    buyer = ContactFactory(last_name="Kaya")
    record_purchase(buyer, days_ago=5)
    ContactFactory(last_name="Hidden")

    response = _post(sales_client, action="export", scope="all", query="stage=one_time")

    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "Kaya" in body and "Hidden" not in body


# --- Campaign audience ----------------------------------------------------------------------

def test_sales_staff_cannot_add_to_a_campaign(sales_client):
    contact = ContactFactory()
    campaign = CampaignFactory()

    response = _post(sales_client, action="campaign", ids=[contact.pk], campaign=campaign.pk)

    assert response.status_code == 403
    assert not CampaignMember.objects.exists()


def test_a_manager_adds_contacts_to_a_campaigns_audience_once(manager_client, manager):
    consenting = ContactFactory(marketing_consent=True)
    no_consent = ContactFactory(marketing_consent=False)
    campaign = CampaignFactory(audience={"stages": ["repeat"]})  # would pick nobody here

    response = _post(manager_client, action="campaign", ids=[consenting.pk, no_consent.pk],
                     campaign=campaign.pk)
    _post(manager_client, action="campaign", ids=[consenting.pk], campaign=campaign.pk)

    assert [str(m) for m in response.wsgi_request._messages] == [
        f"2 contacts added to the audience of “{campaign.name}”."]
    assert set(CampaignMember.objects.values_list("contact_id", "added_by_id")) == {
        (consenting.pk, manager.pk), (no_consent.pk, manager.pk)}
    # In the audience now; consent still applies to contacts added by hand.
    audience = audience_contacts(AudienceCriteria.for_campaign(campaign))
    assert list(audience.values_list("pk", flat=True)) == [consenting.pk]


def test_a_list_only_campaign_picks_only_the_contacts_added_by_hand(manager_client):
    added = ContactFactory(marketing_consent=True)
    ContactFactory(marketing_consent=True)
    campaign = CampaignFactory(audience={"listed_only": True})
    assert not audience_contacts(AudienceCriteria.for_campaign(campaign)).exists()

    _post(manager_client, action="campaign", ids=[added.pk], campaign=campaign.pk)

    audience = audience_contacts(AudienceCriteria.for_campaign(campaign))
    assert list(audience.values_list("pk", flat=True)) == [added.pk]


# --- Permissions and CSRF -------------------------------------------------------------------

def test_a_view_only_user_may_export_but_not_change(client):
    viewer = UserFactory()
    viewer.user_permissions.add(Permission.objects.get(codename="view_contact"))
    client.force_login(viewer)
    contact = ContactFactory()
    colleague = SalesStaffFactory()

    html = client.get(LIST).content.decode()
    refused = _post(client, action="assign", ids=[contact.pk], user=colleague.pk)
    refused_follow_up = _post(client, action="follow_up", ids=[contact.pk], user=colleague.pk,
                              title="x", due_on=timezone.localdate().isoformat())
    exported = _post(client, action="export", ids=[contact.pk])

    assert 'value="assign"' not in html and 'value="export"' in html
    assert (refused.status_code, refused_follow_up.status_code) == (403, 403)
    assert _owners([contact]) == [None]
    assert exported.status_code == 200


def test_anonymous_visitors_are_sent_to_log_in(client):
    contact = ContactFactory()

    response = _post(client, action="export", ids=[contact.pk])

    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_post_without_the_csrf_token_is_refused(sales_user, colleague):
    client = Client(enforce_csrf_checks=True)
    client.force_login(sales_user)
    contact = ContactFactory()

    response = _post(client, action="assign", ids=[contact.pk], user=colleague.pk)

    assert response.status_code == 403
    assert _owners([contact]) == [None]


def test_a_get_is_not_an_action(sales_client):
    assert sales_client.get(BULK).status_code == 405


# --- The background owner change ------------------------------------------------------------

@pytest.fixture
def small_background(monkeypatch):
    monkeypatch.setattr(bulk, "BACKGROUND_ABOVE", 3)
    monkeypatch.setattr(bulk, "CONFIRM_ABOVE", 100)
    monkeypatch.setattr(bulk, "ASSIGN_CHUNK", 2)


def test_a_big_list_is_assigned_in_the_background_with_progress(
        sales_client, sales_user, colleague, small_background,
        django_capture_on_commit_callbacks):
    contacts = ContactFactory.create_batch(5)

    with django_capture_on_commit_callbacks(execute=True):
        response = _post(sales_client, action="assign", scope="all", user=colleague.pk)

    job = BulkAssignJob.objects.get()
    assert response["Location"] == reverse("dashboard:bulk_job", args=[job.pk])
    assert _owners(contacts) == [colleague.pk] * 5
    page = sales_client.get(response["Location"]).content.decode()
    assert 'id="bulk-progress"' in page
    progress = sales_client.get(reverse("dashboard:bulk_job_progress", args=[job.pk])).json()
    assert progress == {"status": "done", "status_label": "Done", "done": 5, "total": 5,
                        "changed": 5, "percent": 100, "finished": True, "error": ""}
    assert (job.created_by, job.owner, job.query) == (sales_user, colleague, "")


def test_the_task_run_twice_changes_nothing_the_second_time(sales_user, colleague,
                                                            small_background):
    contacts = ContactFactory.create_batch(5)
    job = BulkAssignJob.objects.create(created_by=sales_user, owner=colleague, total=5)
    bulk.bulk_assign_run(job.pk)
    stamps = list(Contact.objects.order_by("pk").values_list("updated_at", flat=True))

    bulk.bulk_assign_run(job.pk)  # a second delivery of the same task: claimed already
    again = BulkAssignJob.objects.create(created_by=sales_user, owner=colleague, total=5)
    bulk.bulk_assign_run(again.pk)  # the same change started again

    assert _owners(contacts) == [colleague.pk] * 5
    assert list(Contact.objects.order_by("pk").values_list("updated_at", flat=True)) == stamps
    job.refresh_from_db()
    again.refresh_from_db()
    assert (job.status, job.done, job.changed) == ("done", 5, 5)
    assert (again.status, again.done, again.changed) == ("done", 5, 0)


def test_the_background_run_uses_the_jobs_filters(sales_user, colleague, small_background):
    mine = ContactFactory.create_batch(2, owner=sales_user)
    others = ContactFactory.create_batch(2)
    job = BulkAssignJob.objects.create(created_by=sales_user, owner=colleague, query="mine=1",
                                       total=2)

    bulk.bulk_assign_run(job.pk)

    assert _owners(mine) == [colleague.pk] * 2
    assert _owners(others) == [None, None]


def test_an_owner_who_lost_the_role_fails_the_job(sales_user, colleague, small_background):
    ContactFactory.create_batch(2)
    job = BulkAssignJob.objects.create(created_by=sales_user, owner=colleague, total=2)
    colleague.groups.clear()

    bulk.bulk_assign_run(job.pk)

    job.refresh_from_db()
    assert job.status == "failed" and "sales staff or manager role" in job.error
    assert not Contact.objects.filter(owner=colleague).exists()


def test_someone_elses_job_is_not_shown(sales_user, colleague, client):
    job = BulkAssignJob.objects.create(created_by=sales_user, owner=colleague, total=2)
    client.force_login(colleague)

    response = client.get(reverse("dashboard:bulk_job_progress", args=[job.pk]))

    assert response.status_code == 403
    assert ManagerFactory()  # a manager may look (covered by _JobMixin's rule)


# --- At risk --------------------------------------------------------------------------------

def test_the_at_risk_filter_shows_silent_repeat_clients(sales_client, settings):
    settings.CRM_AT_RISK_MIN_DAYS = 90
    silent = ContactFactory(last_name="Silent")
    record_purchase(silent, days_ago=200)
    record_purchase(silent, days_ago=120)
    recent = ContactFactory(last_name="Recent")
    record_purchase(recent, days_ago=200)
    record_purchase(recent, days_ago=10)
    one_time = ContactFactory(last_name="Once")
    record_purchase(one_time, days_ago=200)

    response = sales_client.get(LIST, {"stage": "at_risk"})

    assert [c.pk for c in response.context["contacts"]] == [silent.pk]
    assert '<option value="at_risk" selected>At risk</option>' in response.content.decode()


def test_the_call_list_links_to_every_at_risk_client(sales_client):
    html = sales_client.get(reverse("dashboard:today")).content.decode()

    assert f'href="{LIST}?stage=at_risk&amp;mine=1"' in html
