"""CSV imports from the dashboard: upload, dry-run preview, import, progress, report.

The rules and the code are those of `manage.py import_purchases` / `import_contacts`
(customers.imports.purchases, customers.imports.contacts); this module only keeps the file, runs
them (dry run first) and records what happened on an ImportJob.

Files live under CRM_IMPORT_DIR (default VAR_DIR/imports), which is never served: the upload
is deleted when the job ends, the rejected-rows report after CRM_IMPORT_KEEP_DAYS
(customers.imports.retention). Progress while a job runs goes to the cache, not the database: the
import holds one transaction from start to end and its progress callback must not write
through it. With Redis (production) web and worker share the cache; without it the bar jumps
to the end.
"""
import logging
import uuid
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..models import ImportJob
from .contacts import columns_allowed, contact_columns, contacts_import_csv
from .purchase_rows import COLUMNS as PURCHASE_COLUMNS
from .order_lines import lines_file_columns
from .purchases import orders_columns, purchase_columns, purchases_import_csv
from .reading import ImportRefused, csv_records

logger = logging.getLogger(__name__)

PREVIEW_ERRORS = 10
ALLOWED_SUFFIXES = (".csv", ".txt")
Status = ImportJob.Status


def import_dir() -> Path:
    folder = Path(settings.CRM_IMPORT_DIR)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def max_upload_bytes() -> int:
    return settings.CRM_IMPORT_MAX_BYTES


def sync_preview_bytes() -> int:
    """Files up to this size are dry-run during the upload request; bigger ones in a task."""
    return settings.CRM_IMPORT_SYNC_PREVIEW_BYTES


# --- Upload ---------------------------------------------------------------------------------

def import_job_create(*, kind: str, upload: UploadedFile, source: str = "csv",
                      skip_invalid: bool = True, historical: bool = False,
                      user=None, date_order: str = "auto",
                      lines_upload: UploadedFile | None = None) -> ImportJob:
    """Store the upload and check its header; small files are dry-run at once.

    Raises ImportRefused (and keeps nothing) for a file that is too big, not CSV, not UTF-8,
    or lacks a required column. `lines_upload`: purchases only, the orders' lines as a file
    of their own (customers.imports.order_lines), checked and kept the same way.
    """
    _check_upload(upload)
    if lines_upload is not None:
        if kind != ImportJob.Kind.PURCHASES:
            raise ImportRefused(_("A lines file goes with purchases only. Nothing was stored."))
        _check_upload(lines_upload)
    path = import_dir() / f"{uuid.uuid4().hex}.csv"
    lines_path = import_dir() / f"{uuid.uuid4().hex}-lines.csv" if lines_upload else None
    lines_name = Path(lines_upload.name or "lines.csv").name[:255] if lines_upload else ""
    try:
        for stored, uploaded in ((path, upload), (lines_path, lines_upload)):
            if stored is not None and uploaded is not None:
                with stored.open("wb") as out:
                    for chunk in uploaded.chunks():
                        out.write(chunk)
        preview = _peek(kind, path, lines_path=lines_path, lines_name=lines_name)
        job = ImportJob.objects.create(
            kind=kind, original_name=Path(upload.name or "upload.csv").name[:255],
            upload_path=str(path), uploaded_by=user, source=source.strip() or "csv",
            skip_invalid=skip_invalid,
            size_bytes=(upload.size or 0) + (lines_upload.size or 0 if lines_upload else 0),
            preview=preview, historical=historical and kind == ImportJob.Kind.PURCHASES,
            date_order=date_order or "auto", lines_name=lines_name,
            lines_path=str(lines_path) if lines_path else "")
        if job.size_bytes <= sync_preview_bytes():
            _preview(job, raise_refused=True)
        else:
            transaction.on_commit(lambda: _enqueue("preview", job.pk))
    except BaseException:
        path.unlink(missing_ok=True)
        if lines_path is not None:
            lines_path.unlink(missing_ok=True)
        raise
    return job


def _check_upload(upload: UploadedFile) -> None:
    if not (upload.name or "").lower().endswith(ALLOWED_SUFFIXES):
        raise ImportRefused(_("Only CSV files (.csv) can be imported. Nothing was stored."))
    if upload.size > max_upload_bytes():
        raise ImportRefused(_("The file is larger than %(limit)d MB. Nothing was stored.")
                            % {"limit": max_upload_bytes() // (1024 * 1024)})
    if not upload.size:
        raise ImportRefused(_("The file is empty. Nothing was stored."))


def _peek(kind: str, path: Path, *, lines_path: Path | None = None,
          lines_name: str = "") -> dict:
    """The header mapped to fields, and the first rows, read with the importers' own reader
    (which refuses an oversized header or line before reading it whole); kept capped. A lines
    file's header is checked too."""
    if lines_path is not None:
        with lines_path.open("rb") as stream:
            try:
                records, _layout = csv_records(stream)
                first = next(records, None)
            except ImportRefused as error:
                raise ImportRefused(_("%(file)s: %(problem)s")
                                    % {"file": lines_name, "problem": error}) from None
            if first is None:
                raise ImportRefused(_("%(file)s: the lines file is empty: its first line must "
                                      "name the columns. Nothing was imported.")
                                    % {"file": lines_name})
            lines_file_columns(first[1], name=lines_name)
    with path.open("rb") as stream:
        records, _layout = csv_records(stream)
        first = next(records, None)
        if first is None:
            raise ImportRefused(_("The file is empty. Nothing was stored."))
        header = first[1]
        columns = orders_columns if lines_path is not None else purchase_columns
        fields = (contact_columns if kind == ImportJob.Kind.CONTACTS else columns)(header)
        rows = []
        for _line, values in records:
            if any(values):
                rows.append(values[:len(header)])  # the cells past the header: a row error
            if len(rows) == preview_rows():
                break
    allowed = columns_allowed() if kind == ImportJob.Kind.CONTACTS else PURCHASE_COLUMNS
    return preview_capped({
        "header": [name.lstrip("\ufeff") for name in header],
        "mapping": [[name.lstrip("\ufeff").strip(), field] for name, field in zip(header, fields)],
        "absent": [name for name in allowed if name not in fields],
        "rows": rows,
    })


def preview_rows() -> int:
    return settings.CRM_IMPORT_PREVIEW_ROWS


def preview_capped(preview: dict) -> dict:
    """The preview's quotes of the file cut to size: the first CRM_IMPORT_PREVIEW_ROWS rows,
    no more cells than the header has, CRM_IMPORT_PREVIEW_CELL_CHARS characters a cell.

    Applied when the preview is stored and again when it is shown, so a preview stored before
    the limits existed cannot make a page of megabytes either.
    """
    header = [_cell(name) for name in (preview.get("header") or [])]
    capped = {**preview, "header": header}
    if "mapping" in preview:
        capped["mapping"] = [[_cell(name), field]
                             for name, field in preview["mapping"][:len(header)]]
    if "rows" in preview:
        capped["rows"] = [[_cell(value) for value in row[:len(header)]]
                          for row in preview["rows"][:preview_rows()]]
    return capped


def _cell(value) -> str:
    text = value if isinstance(value, str) else str(value)
    limit = settings.CRM_IMPORT_PREVIEW_CELL_CHARS
    return text if len(text) <= limit else text[:limit] + "…"


def _enqueue(step: str, job_id: int) -> None:
    from .. import tasks

    (tasks.import_preview_task if step == "preview" else tasks.import_run_task).delay(job_id)


# --- Running --------------------------------------------------------------------------------

class _CountingReader:
    """A binary file that counts the bytes read through it (for the progress bar)."""

    def __init__(self, stream):
        self.stream = stream
        self.bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.bytes_read += len(data)
        return data


def progress_key(job_id: int) -> str:
    return f"crm:import-job:{job_id}:progress"


def _execute(job: ImportJob, *, dry_run: bool, errors_file=None) -> dict:
    """Run the importer on the job's file; the counts in ImportJob's terms."""
    with open(job.upload_path, "rb") as raw, (
            open(job.lines_path, "rb") if job.lines_path else nullcontext()) as lines_raw:
        stream = _CountingReader(raw)
        report: Callable[[int], None] = lambda rows: cache.set(  # noqa: E731 - bound to this job's cache key
            progress_key(job.pk), {"rows": rows, "bytes": stream.bytes_read}, timeout=86400)
        # A dry run counts as if the valid rows were imported, whatever skip_invalid says.
        skip = job.skip_invalid or dry_run
        if job.kind == ImportJob.Kind.CONTACTS:
            result = contacts_import_csv(file=stream, skip_invalid=skip, errors_file=errors_file,
                                         progress=report, dry_run=dry_run, source="import",
                                         recorded_by=job.uploaded_by)
            counts = {"count_created": result.contacts_created,
                      "count_updated": result.contacts_updated,
                      "count_unchanged": result.contacts_unchanged, "count_duplicates": 0,
                      "contacts_created": result.contacts_created}
        else:
            result = purchases_import_csv(file=stream, source=job.source, skip_invalid=skip,
                                          errors_file=errors_file, progress=report,
                                          dry_run=dry_run, historical=job.historical,
                                          date_order=job.date_order,
                                          recorded_by=job.uploaded_by,
                                          lines_file=lines_raw, lines_name=job.lines_name)
            counts = {"count_created": result.purchases_created, "count_updated": 0,
                      "count_unchanged": result.purchases_existing,
                      "count_duplicates": result.rows_duplicate,
                      "contacts_created": result.contacts_created}
    return {**counts, "count_rejected": result.rows_invalid, "rows_read": result.rows_read,
            "rows_valid": result.rows_valid, "imported": result.imported,
            "errors": [[line, email, reasons] for line, email, reasons
                       in result.errors[:PREVIEW_ERRORS]]}


def import_job_preview(job_id: int) -> None:
    """The dry run (task side): a second call, or one for a job past this step, does nothing."""
    job = ImportJob.objects.filter(pk=job_id, status=Status.UPLOADED).first()
    if job is not None:
        _preview(job, raise_refused=False)


def _preview(job: ImportJob, *, raise_refused: bool) -> None:
    claimed = ImportJob.objects.filter(pk=job.pk, status=Status.UPLOADED).update(
        status=Status.PREVIEWING)
    if not claimed:
        return
    try:
        outcome = _execute(job, dry_run=True)
    except ImportRefused as error:
        if raise_refused:
            job.delete()
            raise
        _fail(job, str(error))
        return
    except Exception as error:
        _fail(job, _("The file could not be checked: %(error)s") % {"error": error})
        raise
    job.preview = {**job.preview, "counts": {name: outcome[name] for name in _COUNT_NAMES},
                   "rows_valid": outcome["rows_valid"], "errors": outcome["errors"]}
    job.rows_read = outcome["rows_read"]
    job.bytes_read = job.size_bytes
    job.status = Status.PREVIEWED
    job.save(update_fields=["preview", "rows_read", "bytes_read", "status"])


_COUNT_NAMES = ("count_created", "count_updated", "count_unchanged", "count_duplicates",
                "count_rejected", "contacts_created", "rows_read")


def import_job_start(*, job: ImportJob) -> bool:
    """Queue the import of a previewed job; False if it is not waiting to be started."""
    queued = ImportJob.objects.filter(pk=job.pk, status=Status.PREVIEWED).update(
        status=Status.QUEUED, bytes_read=0, rows_read=0)
    if queued:
        cache.delete(progress_key(job.pk))
        transaction.on_commit(lambda: _enqueue("run", job.pk))
    return bool(queued)


def import_job_run(job_id: int) -> None:
    """The import (task side). Claims the job, so a repeated task never imports twice."""
    claimed = ImportJob.objects.filter(pk=job_id, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=timezone.now())
    if not claimed:
        logger.info("Import job %s is not queued; not running it", job_id)
        return
    job = ImportJob.objects.get(pk=job_id)
    report_path = Path(job.upload_path).with_name(Path(job.upload_path).stem + "-rejected.csv")
    try:
        with report_path.open("w", newline="", encoding="utf-8") as errors_file:
            outcome = _execute(job, dry_run=False, errors_file=errors_file)
    except ImportRefused as error:
        report_path.unlink(missing_ok=True)
        _fail(job, str(error))
        return
    except Exception as error:
        report_path.unlink(missing_ok=True)
        _fail(job, _("The import stopped with an error: %(error)s") % {"error": error})
        raise
    _finish(job, outcome, report_path)


def _finish(job: ImportJob, outcome: dict, report_path: Path) -> None:
    for name in _COUNT_NAMES:
        setattr(job, name, outcome[name])
    job.report_path = str(report_path) if outcome["count_rejected"] else ""
    if not job.report_path:
        report_path.unlink(missing_ok=True)
    if outcome["imported"]:
        job.status = Status.DONE
    else:
        job.status = Status.FAILED
        job.error = ngettext(
            "Nothing was imported: %(count)d row has errors.",
            "Nothing was imported: %(count)d rows have errors.",
            outcome["count_rejected"]) % {"count": outcome["count_rejected"]}
    job.bytes_read = job.size_bytes
    _close(job)


def _fail(job: ImportJob, message: str) -> None:
    job.status = Status.FAILED
    job.error = message
    _close(job)


def _close(job: ImportJob) -> None:
    """The end of a job: the upload is deleted, the report stays until purged."""
    for path in (job.upload_path, job.lines_path):
        if path:
            Path(path).unlink(missing_ok=True)
    job.upload_path = job.lines_path = ""
    job.finished_at = timezone.now()
    job.save()
    cache.delete(progress_key(job.pk))


# --- Reading --------------------------------------------------------------------------------

def import_job_status(job: ImportJob) -> dict:
    """What the progress bar needs: live figures from the cache while the job runs."""
    rows, done = job.rows_read, job.bytes_read
    if job.status in (Status.RUNNING, Status.PREVIEWING, Status.QUEUED):
        live = cache.get(progress_key(job.pk)) or {}
        rows, done = live.get("rows", rows), live.get("bytes", done)
    finished = job.status in (Status.DONE, Status.FAILED, Status.PREVIEWED)
    size = max(job.size_bytes, 1)
    percent = 100 if finished else min(99, int(done * 100 / size))
    return {
        "status": job.status, "status_label": job.get_status_display(),
        "finished": job.is_finished, "rows_read": rows, "bytes_read": min(done, job.size_bytes),
        "size_bytes": job.size_bytes, "percent": percent,
        "counts": {name: getattr(job, name) for name in _COUNT_NAMES if name != "rows_read"},
        "error": job.error, "has_report": bool(job.report_path),
    }


def report_file(job: ImportJob) -> Path | None:
    """The rejected-rows report, only if it really lies in the import folder."""
    if not job.report_path:
        return None
    path = Path(job.report_path).resolve()
    if import_dir().resolve() not in path.parents or not path.is_file():
        return None
    return path
