"""One write path: the doors (admin, views, API, serializers, tasks, commands) call services and
do not write domain models themselves, so every way in gets the same rules and side effects.

Every non-test door module is parsed and each call that writes through the ORM is looked for:
`.save()`, `.delete()`, `.create()` on a manager or queryset, `.update()` on a queryset,
`.bulk_create()`, `.bulk_update()`, `.get_or_create()`, `.update_or_create()` (a
`ModelForm.save()` is a write too). What is left is in ALLOWED, each with the reason; an entry
that no longer matches anything fails as well, so the list only shrinks.

Django's admin also writes without any call of ours: a ModelAdmin that lets managers add or
change rows and has no save_model of its own saves them itself. Those pages are listed in
ADMIN_DEFAULT_SAVES, with the reason, and an override that calls super().save_model() is a
call the parser sees.
"""
import ast
from dataclasses import dataclass
from pathlib import Path

from django.contrib import admin
from django.contrib.admin import ModelAdmin
from django.test import RequestFactory

from accounts.models import User

ROOT = Path(__file__).resolve().parents[2]
SKIPPED_DIRS = {".venv", "bench", "migrations", "tests", "node_modules", "scripts", "deploy",
                "static", "templates", "locale", "docs", "var", "test-artifacts"}

# (file, function, reason). The function is the dotted name of the def holding the call
# ("Class.method", "function", or "<module>"); each entry covers every write in it.
ALLOWED: list[tuple[str, str, str]] = [
    # The worker's liveness row (read by crm.health), not domain data: writing it is the
    # task's whole job, and there is nothing else to apply.
    ("crm/tasks.py", "heartbeat_task", "operational heartbeat row"),
    # A developer's tool that sets up demo logins; no user-creating service exists and no
    # side effect (mail, events) applies to demo accounts.
    ("dashboard/management/commands/load_demo_data.py", "Command._users",
     "demo-data tooling script creating demo staff users"),
    # Django's admin saves the edited reason or note of an existing entry (the address is
    # read-only); adding one goes through campaigns.suppression.address_suppress.
    ("campaigns/admin.py", "SuppressionAdmin.save_model",
     "Django admin machinery: a suppression's reason or note, nothing derived from them"),
    # No consent-wording service yet: the admin stamps created_by and saves; a wording anyone
    # agreed to is read-only (get_readonly_fields), so the ledger cannot change under it.
    ("customers/consent/admin.py", "ConsentWordingAdmin.save_model",
     "Django admin machinery: publishing a consent wording (no service yet)"),
    # The campaign page's subject-test rows go through campaigns.variants
    # (admin_variants.variant_formset_save); runs are read-only; a journey step's rules are
    # JourneyStep.clean() (campaigns.template_needs.step_problems), run by its form, and
    # contacts read the steps at their next step (campaigns.journey_advance): nothing else
    # follows a save.
    ("campaigns/admin.py", "CampaignAdmin.save_formset",
     "Django admin machinery for the journey steps and the read-only runs; test rows use "
     "services"),
]

# ModelAdmins (module.Class) whose add or change page Django saves by default, and inlines
# (module.Class/Inline) whose rows Django's save_formset saves, with the reason.
ADMIN_DEFAULT_SAVES: dict[str, str] = {
    "crm.admin.HeartbeatAdmin": "operational liveness rows, not domain data",
    "crm.admin.PeriodicTaskInWordsAdmin": (
        "django_celery_beat's own admin, re-registered only to show schedules in words"),
    "crm.admin.CrontabScheduleInWordsAdmin": (
        "django_celery_beat's own admin, re-registered only to show schedules in words and "
        "start new ones in the shop's time zone"),
    "accounts.admin.UserAdmin": "Django's own user admin (password, groups); no user service",
    "campaigns.admin.EmailTemplateAdmin": (
        "a template's rules are EmailTemplate.clean() (compiles, renders, its campaigns can "
        "fill it), which every form and full_clean() run; nothing else follows a save"),
    "campaigns.admin.EmailTemplateAdmin/EmailTemplateTranslationInline": (
        "a translation's rules are EmailTemplateTranslation.clean(), run by its form"),
    "webhooks.admin.WebhookEndpointAdmin": (
        "endpoint settings; the URL checks are the model's (full_clean), the same as "
        "webhooks.services.endpoint_create; no endpoint_update service yet"),
    "support.admin.ServiceTargetAdmin": "TODO: support reference data (helper 'cases')",
}
PROJECT_APPS = {"crm", "accounts", "customers", "campaigns", "feedback", "support", "privacy",
                "webhooks", "activity", "api", "dashboard"}

ALWAYS_WRITES = {"bulk_create", "bulk_update", "get_or_create", "update_or_create"}
# `super().save_model(...)` in a ModelAdmin: Django's admin saves the row itself.
ADMIN_WRITES = {"save_model", "delete_model", "delete_queryset", "save_formset"}
# Names that are not ORM receivers however they are called: the cache, files, sessions.
NOT_MODELS = {"cache", "caches", "storage", "default_storage", "session", "os", "shutil",
              "path", "file", "handle", "tmp", "temporary", "zipfile", "archive"}
# Queryset methods that return a queryset: `.filter(...).update(...)` is a queryset update.
QUERYSET_METHODS = {"filter", "exclude", "all", "select_for_update", "order_by", "only",
                    "defer", "select_related", "prefetch_related", "annotate", "alias",
                    "distinct", "using", "none"}
QUERYSET_NAMES = {"queryset", "qs"}


@dataclass(frozen=True)
class Write:
    file: str
    function: str
    line: int
    call: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line} in {self.function}: {self.call}"


def door_modules() -> list[Path]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if any(part in SKIPPED_DIRS or part.startswith(".") for part in parts[:-1]):
            continue
        name = path.name
        if name.startswith("test") or name == "__init__.py" or len(parts) < 2:
            continue
        if (name in ("admin.py", "views.py", "serializers.py", "tasks.py")
                or (name.startswith("admin_") or name.endswith("_views.py"))
                or parts[-2] == "admin"  # an app's admin split into a package by model
                or parts[-3:-1] == ("management", "commands")
                or parts[0] == "api"):  # the API's views live in modules of their own
            found.append(path)
    return found


def _root_name(node: ast.AST) -> str:
    while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else ""


def _is_manager(node: ast.AST) -> bool:
    """`Model.objects`, `obj.related_set` style: an attribute chain ending in a manager."""
    return isinstance(node, ast.Attribute) and (node.attr == "objects"
                                                or node.attr.endswith("_set"))


class _Finder(ast.NodeVisitor):
    def __init__(self, file: str):
        self.file, self.scope, self.writes = file, [], []
        self.querysets: list[set[str]] = [set()]

    def _function(self, node) -> None:
        self.scope.append(node.name)
        if isinstance(node, ast.ClassDef):
            self.generic_visit(node)
        else:
            params = {arg.arg for arg in [*node.args.args, *node.args.kwonlyargs]}
            self.querysets.append(params & QUERYSET_NAMES)
            self.generic_visit(node)
            self.querysets.pop()
        self.scope.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _function

    def _is_queryset(self, node: ast.AST) -> bool:
        if _is_manager(node):
            return True
        if isinstance(node, ast.Name):
            return node.id in self.querysets[-1]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            return (node.func.attr in QUERYSET_METHODS
                    and (self._is_queryset(node.func.value) or _is_manager(node.func.value)
                         or isinstance(node.func.value, ast.Attribute)))
        return False

    def visit_Assign(self, node: ast.Assign) -> None:
        # `rows = Model.objects.filter(...)`: a later `rows.update(...)` is a queryset update.
        if self._is_queryset(node.value):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    self.querysets[-1].add(target.id)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and self._writes(func):
            self.writes.append(Write(self.file, ".".join(self.scope) or "<module>",
                                     node.lineno, ast.unparse(func)))
        self.generic_visit(node)

    def _writes(self, func: ast.Attribute) -> bool:
        receiver, name = func.value, func.attr
        if _root_name(receiver) in NOT_MODELS or (isinstance(receiver, ast.Attribute)
                                                  and receiver.attr in NOT_MODELS):
            return False
        if name in ALWAYS_WRITES:
            return True
        if name in ADMIN_WRITES:
            return (isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Name)
                    and receiver.func.id == "super")
        if name in ("save", "delete"):
            # super().save(...) in a model-ish override, obj.save(), form.save(), qs.delete()
            return True
        if name == "create":
            return self._is_queryset(receiver) or isinstance(receiver, ast.Attribute)
        if name == "update":
            return self._is_queryset(receiver)
        return False


def writes_in(path: Path) -> list[Write]:
    finder = _Finder(str(path.relative_to(ROOT)))
    finder.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    return finder.writes


def _allowed(write: Write) -> bool:
    return any(write.file == file and write.function == function
               for file, function, _reason in ALLOWED)


def test_the_doors_are_found():
    found = {str(path.relative_to(ROOT)) for path in door_modules()}

    assert {"campaigns/admin.py", "dashboard/views.py", "customers/imports/views.py",
            "crm/admin_tools.py", "api/views.py", "api/serializers.py", "support/tasks.py",
            "customers/management/commands/import_purchases.py"} <= found
    assert {"customers/admin/contacts.py", "customers/admin/purchases.py"} <= found
    assert not any("/tests/" in name or "/migrations/" in name or name.startswith("bench/")
                   for name in found)


def test_doors_write_only_through_services():
    writes = [write for path in door_modules() for write in writes_in(path)]

    unexplained = [str(write) for write in writes if not _allowed(write)]

    assert not unexplained, (
        "Writes outside a service (call the app's service, or add an ALLOWED entry with the "
        "reason):\n" + "\n".join(unexplained))


def test_every_allowed_write_is_still_there():
    writes = {(write.file, write.function) for path in door_modules()
              for write in writes_in(path)}

    stale = [f"{file} {function}" for file, function, _reason in ALLOWED
             if (file, function) not in writes]

    assert not stale, "ALLOWED entries that match nothing (remove them):\n" + "\n".join(stale)


def test_every_allowed_write_gives_its_reason():
    assert all(reason.strip() for _file, _function, reason in ALLOWED)
    assert all(reason.strip() for reason in ADMIN_DEFAULT_SAVES.values())


def _found(source: str) -> list[str]:
    finder = _Finder("example.py")
    finder.visit(ast.parse(source))
    return [write.call for write in finder.writes]


def test_the_finder_sees_writes_and_leaves_other_calls_alone():
    source = '''
def view(request, queryset):
    Contact.objects.create(email="a@example.com")
    Contact.objects.filter(pk=1).update(notes="")
    rows = Case.objects.filter(open=True)
    rows.update(open=False)
    queryset.update(is_active=False)
    contact.purchases.create(amount=1)
    form.save()
    contact.delete()
    Token.objects.get_or_create(user=request.user)
    context = {}
    context.update(title="x")
    cache.delete("key")
    request.session.save()
    extra.update(figures)
    self.save_model(request, obj, form, change)


class CaseAdmin(admin.ModelAdmin):
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
'''
    assert _found(source) == [
        "Contact.objects.create", "Contact.objects.filter(pk=1).update", "rows.update",
        "queryset.update", "contact.purchases.create", "form.save", "contact.delete",
        "Token.objects.get_or_create", "super().save_model"]


def admin_default_saves() -> set[str]:
    """The project's ModelAdmins a superuser may add or change rows in (an inline included)
    while Django's ModelAdmin.save_model saves them."""
    request = RequestFactory().get("/")
    request.user = User(is_active=True, is_staff=True, is_superuser=True)
    found = set()
    for model_admin in admin.site._registry.values():
        cls = type(model_admin)
        if cls.__module__.split(".")[0] not in PROJECT_APPS:
            continue
        writable = (model_admin.has_add_permission(request)
                    or model_admin.has_change_permission(request))
        name = f"{cls.__module__}.{cls.__name__}"
        if writable and cls.save_model is ModelAdmin.save_model:
            found.add(name)
        if cls.save_formset is not ModelAdmin.save_formset:
            continue
        for inline in model_admin.get_inline_instances(request):
            editable = (set(inline.get_fields(request))
                        - set(inline.get_readonly_fields(request)))
            if (inline.has_add_permission(request, None)
                    or (inline.can_delete and inline.has_delete_permission(request))
                    or (editable and inline.has_change_permission(request))):
                found.add(f"{name}/{type(inline).__name__}")
    return found


def test_admin_pages_saved_by_django_are_listed():
    unexplained = admin_default_saves() - set(ADMIN_DEFAULT_SAVES)

    assert not unexplained, (
        "Admin pages that Django saves by default (give them a save_model calling the app's "
        "service, or list them with the reason):\n" + "\n".join(sorted(unexplained)))


def test_every_listed_admin_page_still_saves_by_default():
    stale = set(ADMIN_DEFAULT_SAVES) - admin_default_saves()

    assert not stale, "ADMIN_DEFAULT_SAVES entries to remove:\n" + "\n".join(sorted(stale))
