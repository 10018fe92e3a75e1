"""What import jobs keep, and for how long: the daily purge of old jobs' files (the
rejected-rows report after CRM_IMPORT_KEEP_DAYS, an upload never started, the preview's
quotes of the file) and the erasure of one address from all of them (customers.personal_data).
"""
import csv
import datetime as dt
import json
from pathlib import Path

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.csv_safe import SafeCSVWriter

from ..models import ImportJob

Status = ImportJob.Status


def keep_days() -> int:
    return settings.CRM_IMPORT_KEEP_DAYS



def import_jobs_purge(*, days: int | None = None) -> int:
    """Forget what jobs older than `days` kept of their files (the report, a forgotten upload,
    the preview's first rows and errors); the counts stay. Returns jobs."""
    cutoff = timezone.now() - dt.timedelta(days=keep_days() if days is None else days)
    old = ImportJob.objects.filter(created_at__lt=cutoff).filter(
        ~Q(upload_path="") | ~Q(lines_path="") | ~Q(report_path="")
        | Q(preview__has_key="rows")
        | Q(preview__has_key="errors"))
    count = 0
    for job in old:
        for path in (job.upload_path, job.lines_path, job.report_path):
            if path:
                Path(path).unlink(missing_ok=True)
        if not job.is_finished:
            job.status, job.error = Status.FAILED, _("Never started; the upload was deleted.")
        job.upload_path = job.lines_path = job.report_path = ""
        job.preview = {key: value for key, value in job.preview.items()
                       if key not in _PREVIEW_PERSONAL}
        job.save()
        count += 1
    return count


# What a preview quotes from the file itself (personal data); header and counts are not.
_PREVIEW_PERSONAL = ("rows", "errors")


def import_jobs_forget(email: str) -> int:
    """Remove every row that names this address from what import jobs keep: the preview's
    first rows and errors, and the rejected-rows reports (erasure: both quote the file as it
    was). Returns the rows removed."""
    needle = email.strip().lower()
    removed = 0
    for job in ImportJob.objects.all():
        removed += _preview_forget(job, needle)
        if job.report_path:
            removed += _report_forget(Path(job.report_path), needle)
    return removed


def _names(value, needle: str) -> bool:
    return needle in json.dumps(value, ensure_ascii=False).lower()


def _preview_forget(job: ImportJob, needle: str) -> int:
    removed = 0
    for part in _PREVIEW_PERSONAL:
        entries = job.preview.get(part) or []
        kept = [entry for entry in entries if not _names(entry, needle)]
        if len(kept) < len(entries):
            job.preview[part] = kept
            removed += len(entries) - len(kept)
    if removed:
        job.save(update_fields=["preview"])
    return removed


def _report_forget(path: Path, needle: str) -> int:
    try:
        with path.open(newline="", encoding="utf-8") as report:
            rows = list(csv.reader(report))
    except FileNotFoundError:
        return 0
    kept = [row for row in rows if not _names(row, needle)]
    if len(kept) < len(rows):
        temporary = path.with_name(path.name + ".tmp")
        with temporary.open("w", newline="", encoding="utf-8") as report:
            SafeCSVWriter(report).writerows(kept)  # cells escaped before stay as they are
        temporary.replace(path)  # never a half-written report
    return len(rows) - len(kept)
