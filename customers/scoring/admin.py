"""Admin for scoring runs: the backtest of every model, a calibration chart, run now."""
from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpRequest, HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.admin_tools import ReadOnlyAdminMixin

from ..models import ScoringRun
from .report import VERDICTS, backtest_rows, calibration_svg, model_label, verdict_notes


@admin.register(ScoringRun)
class ScoringRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("started_at", "status", "started_by", "as_of", "horizon_days", "model_used",
                    "contacts_scored", "seconds", "publish")
    list_filter = ("status", "trigger", "publish")
    list_select_related = ("started_by_user",)
    date_hierarchy = "started_at"
    change_list_template = "admin/customers/scoringrun/change_list.html"
    fields = ("status", "verdict_text", "started_by", "as_of", "horizon_days", "publish",
              "started_at", "finished_at", "model_used", "backtest", "calibration", "counts",
              "durations", "error")
    readonly_fields = fields

    @admin.display(description=gettext_lazy("started by"), ordering="trigger")
    def started_by(self, run: ScoringRun) -> str:
        """"Schedule", "Command", or the manager who started it from here."""
        if run.started_by_user is not None:
            # No words to translate: "Admin: marta" reads the same in every language.
            return f"{run.get_trigger_display()}: {run.started_by_user.get_username()}"
        return run.get_trigger_display()

    @admin.display(description=gettext_lazy("model used"), ordering="chosen_model")
    def model_used(self, run: ScoringRun) -> str:
        if not run.chosen_model:
            return "–"
        if run.verdict == "not_backtested":
            return _("%(model)s (not backtested yet)") % {"model": model_label(run.chosen_model)}
        return model_label(run.chosen_model)

    @admin.display(description=gettext_lazy("contacts scored"))
    def contacts_scored(self, run: ScoringRun) -> str:
        return str(run.counts.get("contacts", "–")) if run.counts else "–"

    @admin.display(description=gettext_lazy("seconds"))
    def seconds(self, run: ScoringRun) -> str:
        if run.finished_at is None:
            return "–"
        return f"{(run.finished_at - run.started_at).total_seconds():.1f}"

    @admin.display(description=gettext_lazy("data"))
    def verdict_text(self, run: ScoringRun) -> str:
        verdict = str(VERDICTS.get(run.verdict, _("Enough data") if run.verdict else "–"))
        notes = verdict_notes(run)
        if not notes:
            return verdict
        return format_html("{}{}", verdict, format_html_join(
            "", "<br>{}", ((note,) for note in notes)))

    @admin.display(description=gettext_lazy("backtest on the newest complete window"))
    def backtest(self, run: ScoringRun) -> str:
        return render_to_string("admin/customers/scoringrun/backtest.html",
                                {"rows": backtest_rows(run)})

    @admin.display(description=gettext_lazy("calibration"))
    def calibration(self, run: ScoringRun) -> str:
        return calibration_svg(run) or "–"

    def get_urls(self) -> list[URLPattern]:
        run_now = self.admin_site.admin_view(self.run_now_view)
        return [path("run-now/", run_now, name="customers_scoringrun_run_now"),
                *super().get_urls()]

    def run_now_view(self, request: HttpRequest) -> HttpResponseRedirect:
        from ..tasks import score_contacts_task

        if request.method != "POST" or not request.user.has_perm("customers.add_scoringrun"):
            return HttpResponseRedirect(reverse("admin:customers_scoringrun_changelist"))
        started_by = request.user.pk  # the run says who asked, not "Schedule"
        transaction.on_commit(lambda: score_contacts_task.delay(
            trigger=ScoringRun.Trigger.ADMIN, started_by_id=started_by))
        self.message_user(request, _("Scoring queued: the run appears here when a worker "
                                     "takes it."), messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:customers_scoringrun_changelist"))
