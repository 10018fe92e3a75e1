"""Bulk actions on the contact list: assign an owner, add a follow-up, export, add to a
campaign's audience, for the rows ticked on the page or the whole filtered list.

The whole list is never a list of ids from the browser: the form carries the list's filters
as their query string and the server re-evaluates them (contact_list.matching_contacts). Ticked
rows are at most one page of ids, and only those the filters still match count. Every write
goes through a service (customers.services.contacts, customers.followups, campaigns.members).
An owner change of more than BACKGROUND_ABOVE contacts runs as a Celery task in chunks
(bulk_assign_run), with its progress on a BulkAssignJob row for the page's bar.
"""
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns.members import campaign_members_add, campaigns_for_members
from crm.tasks import queue_after_commit
from customers.followups import follow_up_add
from customers.models import Contact
from customers.owners import OWNER_REFUSED, eligible_owners, owner_label
from customers.services.contacts import contacts_assign_owner

from . import contact_list
from .contact_list import ContactFilterForm
from .models import BulkAssignJob

CONFIRM_ABOVE = 100  # more contacts than this: a confirmation page first
BACKGROUND_ABOVE = 1000  # an owner change of more runs in the background with a progress bar
ASSIGN_CHUNK = 10_000  # contacts per UPDATE in the background (100,000 in 10 statements)
FOLLOW_UP_MAX = 5000  # one follow-up row each: more is a mistake, not a plan

# action -> (label, the permission it needs)
ACTIONS = {
    "assign": (_("Assign owner"), "customers.change_contact"),
    "follow_up": (_("Add a follow-up"), "customers.add_followup"),
    "export": (_("Export"), "customers.view_contact"),
    "campaign": (_("Add to a campaign's audience"), "campaigns.change_campaign"),
}
PAGE, ALL = "page", "all"


def allowed_actions(user) -> list[tuple[str, str]]:
    return [(name, label) for name, (label, perm) in ACTIONS.items() if user.has_perm(perm)]


def bulk_context(user) -> dict:
    """The contact list's bulk bar, for a user with at least one bulk action."""
    if not allowed_actions(user):
        return {}
    form = BulkForm(user=user)
    return {"bulk_form": form, "bulk_campaigns": user.has_perm(ACTIONS["campaign"][1])}


class _PageIds(forms.Field):
    """The ticked rows: at most one page of contact ids."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        try:
            ids = sorted({int(item) for item in value or []})
        except (TypeError, ValueError):
            raise ValidationError(_("Choose contacts from the list."), code="invalid") from None
        if len(ids) > contact_list.PAGE_SIZE:
            raise ValidationError(_("Tick rows on one page, or choose all matching contacts."),
                                  code="too_many")
        return ids


class BulkForm(forms.Form):
    action = forms.ChoiceField(label=_("Action"), choices=[])
    scope = forms.ChoiceField(choices=[(PAGE, _("Ticked rows")), (ALL, _("All matching"))],
                              initial=PAGE, widget=forms.RadioSelect)
    ids = _PageIds(required=False)
    query = forms.CharField(required=False, widget=forms.HiddenInput, max_length=2000)
    # The new owner, or who the follow-up is for: one list of staff for both actions.
    user = forms.ModelChoiceField(label=_("Staff member"), queryset=None, required=False,
                                  empty_label=_("Nobody"),
                                  error_messages={"invalid_choice": OWNER_REFUSED})
    title = forms.CharField(label=_("What to do"), max_length=200, required=False)
    due_on = forms.DateField(label=_("Due"), required=False,
                             widget=forms.DateInput(attrs={"type": "date"}))
    campaign = forms.ModelChoiceField(label=_("Campaign"), queryset=None, required=False)
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["action"].choices = allowed_actions(user)
        self.fields["user"].queryset = eligible_owners()
        self.fields["user"].label_from_instance = owner_label
        self.fields["campaign"].queryset = campaigns_for_members()
        self.fields["due_on"].initial = timezone.localdate() + dt.timedelta(days=1)

    def add_prefix(self, field_name):
        return field_name

    def clean(self):
        data = super().clean()
        action = data.get("action")
        if data.get("scope") == PAGE and not data.get("ids") and "ids" not in self.errors:
            self.add_error("ids", _("Tick the contacts first, or choose all matching."))
        if action == "follow_up":
            if not data.get("user"):
                self.add_error("user", _("Choose who the follow-up is for."))
            if not (data.get("title") or "").strip():
                self.add_error("title", _("Say what to do, e.g. 'Call about the new collection'."))
            if not data.get("due_on"):
                self.add_error("due_on", _("Choose the due day."))
        if action == "campaign" and not data.get("campaign"):
            self.add_error("campaign", _("Choose the campaign."))
        return data

    def filter_values(self) -> dict:
        return ContactFilterForm(QueryDict(self.cleaned_data.get("query") or "")).values()


@dataclass
class Selection:
    contacts: QuerySet  # unordered, no ids from the browser beyond one page
    count: int
    everything: bool  # the whole filtered list


def selection_resolve(form: BulkForm) -> Selection:
    """The contacts a valid form acts on, the filters evaluated here on the server."""
    contacts = contact_list.matching_contacts(form.filter_values(), user=form.user)
    everything = form.cleaned_data["scope"] == ALL
    if not everything:
        contacts = contacts.filter(pk__in=form.cleaned_data["ids"])
    return Selection(contacts, contacts.count(), everything)


def needs_confirmation(form: BulkForm, selection: Selection) -> bool:
    return (form.cleaned_data["action"] != "export" and selection.count > CONFIRM_ABOVE
            and not form.cleaned_data.get("confirmed"))


@dataclass
class Outcome:
    count: int  # contacts the action applied to
    job: BulkAssignJob | None = None  # running in the background


def bulk_apply(form: BulkForm, selection: Selection) -> Outcome:
    """Run the form's action (not export: the view streams that). ValidationError from the
    services (an owner who lost the role since the page was drawn, say) goes to the caller."""
    data = form.cleaned_data
    action: Callable[[BulkForm, Selection], Outcome] = _ACTIONS[data["action"]]
    return action(form, selection)


def _assign(form: BulkForm, selection: Selection) -> Outcome:
    owner = form.cleaned_data["user"]
    if selection.everything and selection.count > BACKGROUND_ABOVE:
        return Outcome(selection.count, bulk_assign_start(
            user=form.user, query=form.cleaned_data.get("query") or "", owner=owner,
            total=selection.count))
    for _chunk in assign_in_chunks(selection.contacts, owner):
        pass
    return Outcome(selection.count)


def _follow_up(form: BulkForm, selection: Selection) -> Outcome:
    if selection.count > FOLLOW_UP_MAX:
        raise ValidationError(_("A follow-up each for more than %(max)d contacts is too many: "
                                "narrow the list first.") % {"max": FOLLOW_UP_MAX})
    data = form.cleaned_data
    with transaction.atomic():
        for contact in selection.contacts.order_by("pk").only("pk"):
            follow_up_add(contact=contact, assigned_to=data["user"], title=data["title"],
                          due_on=data["due_on"], created_by=form.user)
    return Outcome(selection.count)


def _campaign(form: BulkForm, selection: Selection) -> Outcome:
    added = campaign_members_add(campaign=form.cleaned_data["campaign"],
                                 contacts=selection.contacts, added_by=form.user)
    return Outcome(added)


_ACTIONS = {"assign": _assign, "follow_up": _follow_up, "campaign": _campaign}


# --- The owner change in chunks, in the request or in the background -----------------------

def _not_owned_by(owner) -> Q:
    # ~Q on a nullable column keeps the NULLs: contacts owned by nobody are changed too.
    return Q(owner__isnull=False) if owner is None else ~Q(owner=owner)


def assign_in_chunks(contacts: QuerySet, owner, *, chunk: int = ASSIGN_CHUNK):
    """Give `contacts` to `owner`, `chunk` ids at a time in id order, each chunk committed on
    its own; yields (contacts walked, owners changed) per chunk. Contacts already theirs are
    left alone, so running it twice changes nothing the second time."""
    last = 0
    while True:
        ids = list(contacts.filter(pk__gt=last).order_by("pk")
                   .values_list("pk", flat=True)[:chunk])
        if not ids:
            return
        changed = contacts_assign_owner(
            contacts=Contact.objects.filter(_not_owned_by(owner), pk__in=ids), owner=owner)
        last = ids[-1]
        yield len(ids), changed


def bulk_assign_start(*, user, query: str, owner, total: int) -> BulkAssignJob:
    """A job row, and its task queued once the row is committed."""
    from .tasks import bulk_assign_task

    job = BulkAssignJob.objects.create(created_by=user, query=query, owner=owner, total=total)
    queue_after_commit(bulk_assign_task, job.pk,
                       consequence="the owner change does not run; start it again")
    return job


def bulk_assign_run(job_id: int) -> None:
    """The background owner change: claimed first, so a second delivery of the task (or a
    second worker) does nothing; the filters are evaluated again here, as the page did."""
    claimed = BulkAssignJob.objects.filter(pk=job_id, status=BulkAssignJob.Status.QUEUED).update(
        status=BulkAssignJob.Status.RUNNING)
    if not claimed:
        return
    job = BulkAssignJob.objects.select_related("created_by", "owner").get(pk=job_id)
    values = ContactFilterForm(QueryDict(job.query)).values()
    contacts = contact_list.matching_contacts(values, user=job.created_by)
    done = changed = 0
    try:
        for walked, chunk_changed in assign_in_chunks(contacts, job.owner):
            done, changed = done + walked, changed + chunk_changed
            BulkAssignJob.objects.filter(pk=job_id).update(done=done, changed=changed)
    except ValidationError as error:  # the owner lost the role meanwhile
        _finish(job_id, BulkAssignJob.Status.FAILED, error=" ".join(error.messages))
        return
    _finish(job_id, BulkAssignJob.Status.DONE, total=max(done, job.total))


def _finish(job_id: int, status: str, **fields) -> None:
    # The filters may hold a search word (a person's name): not kept once the job is over.
    BulkAssignJob.objects.filter(pk=job_id).update(status=status, finished_at=timezone.now(),
                                                   query="", **fields)


def job_progress(job: BulkAssignJob) -> dict:
    """What the progress bar polls."""
    percent = 100 if job.status == BulkAssignJob.Status.DONE else (
        int(100 * job.done / job.total) if job.total else 0)
    return {"status": job.status, "status_label": job.get_status_display(), "done": job.done,
            "total": job.total, "changed": job.changed, "percent": min(percent, 100),
            "finished": job.status in (BulkAssignJob.Status.DONE, BulkAssignJob.Status.FAILED),
            "error": job.error}
