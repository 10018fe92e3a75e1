import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import ScoringRun
from customers.normalise import shop_day
from customers.scoring.report import report_lines
from customers.scoring.runs import scoring_run_execute, scoring_run_start


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(_("--as-of must be a date like 2026-03-31, not %(text)r.")
                           % {"text": text}) from None


class Command(BaseCommand):
    help = _("Fit the scoring models, backtest them and score every contact (the nightly job).")

    def add_arguments(self, parser):
        parser.add_argument("--as-of", type=_day, metavar="DATE",
                            help=_("Ignore every purchase after this day: a backtest on your own "
                                   "history. Its scores do not replace the current ones."))
        parser.add_argument("--horizon-days", type=int, metavar="N",
                            help=_("How far ahead 'buys again' looks (default from settings)."))
        parser.add_argument("--parallel", action="store_true",
                            help=_("Score the chunks as Celery tasks on the running workers "
                                   "instead of in this process."))

    def handle(self, *args, as_of, horizon_days, parallel, **options):
        if horizon_days is not None and not 1 <= horizon_days <= 3650:
            raise CommandError(_("--horizon-days must be between 1 and 3650."))
        if as_of is not None and as_of > shop_day(timezone.now()):
            raise CommandError(_("--as-of cannot be in the future."))
        run = scoring_run_start(trigger=ScoringRun.Trigger.COMMAND, as_of=as_of,
                                horizon_days=horizon_days)
        if run is None:
            raise CommandError(_("Another scoring run is in progress; try again when it ends."))
        try:
            scoring_run_execute(run.pk, parallel=parallel)
        except Exception as error:
            raise CommandError(_("Scoring failed: %(error)s") % {"error": error}) from error
        run.refresh_from_db()
        for line in report_lines(run):
            self.stdout.write(line)
        if run.status == ScoringRun.Status.RUNNING and parallel:
            self.stdout.write(_("Chunks are queued for the workers; see the run in the admin."))
