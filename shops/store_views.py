"""The managers' store pages: every connected store's status, adding and changing a store,
testing its connection, starting a back-fill or poll and following its progress.

Who may: whoever may change stores (shops.change_store: the managers' role), checked as the
deliverability page checks its own permission."""
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from .crypto import CredentialsUnreadable
from .forms import StoreForm
from .models import Store, SyncJob
from .platforms import platform_for, platforms
from .platforms.base import Platform
from .selectors import (
    OPEN_STATUSES,
    error_kind_label,
    job_progress,
    store_jobs,
    store_lag,
    stores_with_status,
)
from .services.stores import (
    store_activate,
    store_create,
    store_deactivate,
    store_new_webhook_secret,
    store_test_connection,
    store_update,
    store_webhook_url,
)
from .services.sync import sync_start

MANAGE_STORES = "shops.change_store"
manager_only = permission_required(MANAGE_STORES, raise_exception=True)


@require_safe
@never_cache
@manager_only
def store_list(request: HttpRequest) -> HttpResponse:
    return render(request, "shops/store_list.html", {"rows": stores_with_status()})


def _platform_or_404(key: str) -> Platform:
    try:
        return platform_for(key)
    except KeyError:
        raise Http404("no such platform") from None


@require_http_methods(["GET", "POST"])
@never_cache
@manager_only
def store_add(request: HttpRequest) -> HttpResponse:
    """Choose the platform, then fill in its form."""
    key = request.GET.get("platform", "")
    if not key:
        return render(request, "shops/store_platform.html", {
            "platforms": sorted(platforms().values(), key=lambda p: str(p.label))})
    platform = _platform_or_404(key)
    form = StoreForm(request.POST or None, platform=platform)
    if request.method == "POST" and form.is_valid():
        try:
            store = store_create(
                platform=platform.key, name=form.cleaned_data["name"],
                key=form.cleaned_data["key"], base_url=form.cleaned_data["base_url"],
                credentials=form.credentials(), webhook_secret=form.webhook_secret())
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Store added. Test the connection, then set up its "
                                        "webhooks as shown below."))
            return redirect("stores:store_detail", store.pk)
    return render(request, "shops/store_form.html", {"form": form, "platform": platform})


@require_http_methods(["GET", "POST"])
@never_cache
@manager_only
def store_edit(request: HttpRequest, pk: int) -> HttpResponse:
    store = get_object_or_404(Store, pk=pk)
    platform = store.platform_impl
    stored = _stored_credentials(store)
    initial = {"name": store.name, "base_url": store.base_url}
    initial.update({f"credential_{field.name}": stored.get(field.name, "")
                    for field in platform.credential_fields if not field.secret})
    form = StoreForm(request.POST or None, platform=platform, store=store, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            store_update(store=store, name=form.cleaned_data["name"],
                         base_url=form.cleaned_data["base_url"],
                         credentials=form.credentials(), webhook_secret=form.webhook_secret())
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Store saved."))
            return redirect("stores:store_detail", store.pk)
    return render(request, "shops/store_form.html",
                  {"form": form, "platform": platform, "store": store})


def _stored_credentials(store: Store) -> dict[str, str]:
    """What the form shows of the credentials: the non-secret ones are read from here."""
    try:
        return store.credentials()
    except CredentialsUnreadable:
        return {}


def _add_errors(form: StoreForm, error: ValidationError) -> None:
    for field, problems in error.message_dict.items():
        form.add_error(field if field in form.fields else None, problems)


@require_safe
@never_cache
@manager_only
def store_detail(request: HttpRequest, pk: int) -> HttpResponse:
    store = get_object_or_404(Store, pk=pk)
    platform = store.platform_impl
    jobs = store_jobs(store)
    return render(request, "shops/store_detail.html", {
        "store": store, "platform": platform, "lag": store_lag(store),
        "webhook_url": store_webhook_url(store),
        "webhook_secret": _shown_webhook_secret(store, platform),
        "error_label": error_kind_label(store.last_error_kind), "jobs": jobs,
        "open_jobs": [{"job": job, "progress": job_progress(job)}
                      for job in jobs if job.status in OPEN_STATUSES]})


def _shown_webhook_secret(store: Store, platform: Platform) -> str:
    """The secret the manager pastes into the store, where the CRM made it up; never the
    platform's own (the manager has it) nor any credential."""
    if not platform.webhook_secret_generated:
        return ""
    try:
        return store.webhook_secret()
    except CredentialsUnreadable:  # the test button says so
        return ""


@require_POST
@manager_only
def store_test(request: HttpRequest, pk: int) -> HttpResponse:
    store = get_object_or_404(Store, pk=pk)
    result = store_test_connection(store=store)
    if result.ok:
        messages.success(request, result.message)
    else:
        messages.error(request, _("The connection failed: %(message)s") % {
            "message": result.message})
    return redirect("stores:store_detail", store.pk)


@require_POST
@manager_only
def store_sync(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """Start a back-fill of the whole order history or a poll of what changed; a job of that
    kind still open is shown instead of starting a second."""
    store = get_object_or_404(Store, pk=pk)
    if kind not in SyncJob.Kind.values:
        raise Http404("no such job kind")
    if not store.active:
        messages.error(request, _("Switch the store on first."))
        return redirect("stores:store_detail", store.pk)
    job = sync_start(store=store, kind=kind, started_by=request.user)
    return redirect("stores:job_detail", job.pk)


@require_POST
@manager_only
def store_active(request: HttpRequest, pk: int) -> HttpResponse:
    store = get_object_or_404(Store, pk=pk)
    if request.POST.get("active") == "1":
        store_activate(store=store)
        messages.success(request, _("The store is switched on."))
    else:
        store_deactivate(store=store)
        messages.success(request, _("The store is switched off: its webhooks are refused and "
                                    "it is not polled."))
    return redirect("stores:store_detail", store.pk)


@require_POST
@manager_only
def store_webhook_secret(request: HttpRequest, pk: int) -> HttpResponse:
    store = get_object_or_404(Store, pk=pk)
    try:
        store_new_webhook_secret(store=store)
    except ValueError:
        raise Http404("this platform's webhook secret is its own") from None
    messages.success(request, _("A new webhook secret was made: paste it into the store's "
                                "webhook settings, or its webhooks will be refused."))
    return redirect("stores:store_detail", store.pk)


@require_safe
@never_cache
@manager_only
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(SyncJob.objects.select_related("store", "started_by"), pk=pk)
    return render(request, "shops/job_detail.html", {"job": job, "progress": job_progress(job)})


@require_safe
@never_cache
@manager_only
def job_progress_json(request: HttpRequest, pk: int) -> JsonResponse:
    return JsonResponse(job_progress(get_object_or_404(SyncJob, pk=pk)))
