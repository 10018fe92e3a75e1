import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_celery_beat.models import PeriodicTask

from accounts.roles import is_manager

from .forms import ScheduleTimeForm, ShopSettingsForm
from .health import all_checks, broker_check, database_check
from .schedule_service import schedule_time_set
from .schedule_words import schedule_in_words
from .shop import (
    FIELDS, STORED_IN_FIGURES, change_blocked, shop, shop_settings_save, suggestions,
)

logger = logging.getLogger(__name__)


FIRST_RUN_SHOWN = "crm_shop_first_run_shown"


def home(request: HttpRequest) -> HttpResponse:
    """After login: a manager of a shop whose settings were never saved goes to the shop
    settings page once per session; everyone else to the call list."""
    if (is_manager(request.user) and not request.session.get(FIRST_RUN_SHOWN)
            and not shop().saved):
        request.session[FIRST_RUN_SHOWN] = True
        return redirect("shop_settings")
    return redirect("dashboard:today")


@never_cache
def shop_settings(request: HttpRequest) -> HttpResponse:
    """The shop's name, base currency, time zone, default language and sender (managers)."""
    if not is_manager(request.user):
        raise PermissionDenied
    current = shop()
    fixed = current.set_by_deployment
    initial = {field: getattr(current, field) for field in FIELDS}
    locked_reason = change_blocked()
    if not current.saved:  # first run: what the browser's language suggests
        keep = fixed | (set(STORED_IN_FIGURES) if locked_reason else set())
        initial.update({field: value for field, value in
                        suggestions(request.headers.get("Accept-Language", "")).items()
                        if field not in keep})
    form = ShopSettingsForm(request.POST or None, initial=initial, set_by_deployment=fixed)
    if request.method == "POST" and form.is_valid():
        try:
            shop_settings_save(values=form.cleaned_data, by=request.user)
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                form.add_error(field if field in form.fields else None, problems)
        else:
            messages.success(request, _("Shop settings saved."))
            return redirect("shop_settings")
    return render(request, "crm/shop_settings.html", {
        "form": form, "first_run": not current.saved, "locked_reason": locked_reason})


@never_cache
def status(request: HttpRequest) -> HttpResponse:
    # Signed in (LoginRequiredMiddleware) but not a manager: a redirect to the login page would
    # send them straight back here, forever (user_passes_test did that).
    if not is_manager(request.user):
        raise PermissionDenied
    checks = all_checks()
    return render(
        request, "crm/status.html",
        {"checks": checks, "all_ok": all(check.ok for check in checks)},
        status=200 if all(check.ok for check in checks) else 503,
    )


@login_not_required
@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers: 200 when this machine can serve pages, 503 when it cannot.

    Anonymous and cheap (probed every few seconds): one SELECT 1 and one new broker connection,
    each bounded by a few seconds, no worker ping (that is /status/'s job). The body names what
    failed, never where it lives; the details go to the log.
    """
    checks = [database_check(), broker_check()]
    for check in checks:
        if not check.ok:
            logger.warning("Health check: %s unavailable: %s", check.name, check.detail)
    healthy = all(check.ok for check in checks)
    body = "".join(f"{check.name}: {'ok' if check.ok else 'unavailable'}\n" for check in checks)
    return HttpResponse(body, status=200 if healthy else 503,
                        content_type="text/plain; charset=utf-8")


@never_cache
def schedule_list(request: HttpRequest) -> HttpResponse:
    """The scheduled jobs, in words and in the shop's time zone (managers)."""
    if not is_manager(request.user):
        raise PermissionDenied
    tasks = PeriodicTask.objects.select_related("interval", "crontab").order_by("name")
    return render(request, "crm/schedule_list.html", {
        "rows": [(task, schedule_in_words(task)) for task in tasks],
        "time_zone": shop().time_zone})


@never_cache
def schedule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change when a daily or weekly job runs, in the shop's time zone (managers)."""
    if not is_manager(request.user):
        raise PermissionDenied
    task = get_object_or_404(PeriodicTask.objects.select_related("interval", "crontab"), pk=pk)
    initial = {}
    if task.crontab and task.crontab.hour.isdigit() and task.crontab.minute.isdigit():
        initial = {"day_of_week": task.crontab.day_of_week,
                   "time": f"{int(task.crontab.hour):02d}:{int(task.crontab.minute):02d}"}
    form = ScheduleTimeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        at = form.cleaned_data["time"]
        schedule_time_set(task=task, day_of_week=form.cleaned_data["day_of_week"],
                          hour=at.hour, minute=at.minute)
        messages.success(request, _("Schedule saved: %(when)s.") % {
            "when": schedule_in_words(task)})
        return redirect("schedule_list")
    return render(request, "crm/schedule_edit.html", {
        "form": form, "task": task, "when": schedule_in_words(task),
        "time_zone": shop().time_zone})
