"""Dashboard CSV import: upload, preview (dry run), start, progress, rejected-rows report.

Managers only (customers.add_importjob / view_importjob); the work is customers.imports.jobs'.
"""
from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import DetailView, FormView, View

from ..models import ImportJob
from .forms import ImportUploadForm
from .jobs import (
    import_job_create, import_job_start, import_job_status, max_upload_bytes, preview_capped,
    report_file,
)
from .reading import ImportRefused

RECENT_JOBS = 20
Status = ImportJob.Status


class ImportUploadView(PermissionRequiredMixin, FormView):
    """The upload form and the recent imports."""

    permission_required = "customers.add_importjob"
    template_name = "customers/import_list.html"
    form_class = ImportUploadForm

    def get_context_data(self, **kwargs):
        jobs = ImportJob.objects.select_related("uploaded_by")[:RECENT_JOBS]
        return super().get_context_data(jobs=jobs, max_mb=max_upload_bytes() // (1024 * 1024),
                                        **kwargs)

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            job = import_job_create(kind=data["kind"], upload=data["file"],
                                    source=data["source"] or "csv",
                                    skip_invalid=data["skip_invalid"],
                                    historical=data["historical"], user=self.request.user,
                                    date_order=data["date_order"],
                                    lines_upload=data.get("lines_file"))
        except ImportRefused as error:
            form.add_error("file", str(error))
            return self.form_invalid(form)
        return redirect("customers:import_preview", pk=job.pk)


class _JobView(PermissionRequiredMixin, DetailView):
    permission_required = "customers.view_importjob"
    model = ImportJob
    context_object_name = "job"

    def get_context_data(self, **kwargs):
        return super().get_context_data(state=import_job_status(self.object), **kwargs)


class ImportPreviewView(_JobView):
    """First rows, column mapping and the dry run's counts; the button that starts it."""

    template_name = "customers/import_preview.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(preview=preview_capped(self.object.preview), **kwargs)

    def get(self, request, *args, **kwargs):
        self.object = job = self.get_object()
        if job.status in (Status.QUEUED, Status.RUNNING, Status.DONE) or (
                job.status == Status.FAILED and job.started_at):
            return redirect("customers:import_progress", pk=job.pk)
        return self.render_to_response(self.get_context_data(object=job))


class ImportProgressView(_JobView):
    """The progress bar (polls ImportStatusView; a meta refresh without JavaScript)."""

    template_name = "customers/import_progress.html"


class ImportStatusView(PermissionRequiredMixin, View):
    permission_required = "customers.view_importjob"

    def get(self, request, pk: int):
        job = get_object_or_404(ImportJob, pk=pk)
        state = import_job_status(job)
        if state["has_report"]:
            state["report_url"] = reverse("customers:import_report", args=[job.pk])
        return JsonResponse(state)


class ImportStartView(PermissionRequiredMixin, View):
    permission_required = "customers.add_importjob"

    def post(self, request, pk: int):
        job = get_object_or_404(ImportJob, pk=pk)
        if not import_job_start(job=job):
            messages.info(request, _("This import was already started."))
        return redirect("customers:import_progress", pk=job.pk)


class ImportReportView(PermissionRequiredMixin, View):
    """The rejected rows (line, email, reasons) as CSV."""

    permission_required = "customers.view_importjob"

    def get(self, request, pk: int):
        job = get_object_or_404(ImportJob, pk=pk)
        path = report_file(job)
        if path is None:
            raise Http404(_("This import has no report of rejected rows (any more)."))
        stem = job.original_name.rsplit(".", 1)[0] or "import"
        return FileResponse(path.open("rb"), as_attachment=True,
                            filename=f"{stem}-rejected-rows.csv", content_type="text/csv")
