"""The OpenAPI schema documents the error answers of every operation, with their shapes.

drf-spectacular documents the success answers it can see; the errors come from DRF's exception
handler (api.exceptions), the same few for every view. They are added here from what each
operation really has: 400 where it reads a body or query parameters (415 for a body that is
not JSON), 401 and 403 where it needs a signed-in user with a role, 404 where its path has an
id (or the view declares one), 429 where it is throttled, and 503 everywhere: while the
database is down every operation answers it, with Retry-After (crm.errors.service_unavailable).
"""
from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework.permissions import AllowAny

ERROR_DETAIL = "ErrorDetail"
VALIDATION_ERRORS = "ValidationErrors"

_MESSAGES = {"type": "array", "items": {"type": "string"}}
_COMPONENTS = {
    ERROR_DETAIL: {
        "type": "object",
        "properties": {"detail": {"type": "string"}},
        "required": ["detail"],
        "additionalProperties": False,
        "description": _("What went wrong, in the request's language."),
    },
    VALIDATION_ERRORS: {
        "type": "object",
        "additionalProperties": {"anyOf": [
            _MESSAGES, {"type": "object", "additionalProperties": _MESSAGES}]},
        "description": _("Each field in error with its messages (non_field_errors: the "
                         "request as a whole). For a list of events: by the index of each bad "
                         "item, its field errors. Nothing was stored."),
    },
}


class ErrorDocumentingAutoSchema(AutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation["responses"]
        for code, answer in self._error_answers(operation).items():
            declared = responses.get(code, {})
            if "content" not in declared:  # the view's own wording of it is kept
                responses[code] = {**answer, "description": declared.get(
                    "description") or answer["description"]}
        return operation

    def _error_answers(self, operation: dict) -> dict[str, dict]:
        detail = self._component(ERROR_DETAIL)
        answers = {}
        if "requestBody" in operation or any(
                parameter["in"] == "query" for parameter in operation.get("parameters", [])):
            answers["400"] = _answer(
                _("The request is malformed or a value is invalid: nothing was done."),
                {"oneOf": [detail, self._component(VALIDATION_ERRORS)]})
        if "requestBody" in operation:
            answers["415"] = _answer(_("The body is not sent as application/json."), detail)
        if not all(isinstance(permission, AllowAny) for permission in self.view.get_permissions()):
            answers["401"] = _answer(_("No valid token or session."), detail, {
                "WWW-Authenticate": _header("string", _("How to authenticate: Token."))})
            answers["403"] = _answer(_("Your role may not do this (or a session request lacks "
                                       "its CSRF token)."), detail)
        if "{" in self.path or "404" in operation["responses"]:
            answers["404"] = _answer(_("No such object."), detail)
        if self.view.get_throttles():
            answers["429"] = _answer(
                _("Too many requests: wait as long as Retry-After says."), detail, {
                    "Retry-After": _header("integer", _("Seconds to wait before the next "
                                                        "request."))})
        answers["503"] = _answer(
            _("The CRM is temporarily unavailable (its database cannot be reached): nothing "
              "was done; try again after Retry-After."), detail, {
                "Retry-After": _header("integer", _("Seconds to wait before trying again."))})
        return answers

    def _component(self, name: str) -> dict:
        component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA,
                                      schema=_COMPONENTS[name], object=name)
        self.registry.register_on_missing(component)
        return component.ref


def _answer(description, schema: dict, headers: dict | None = None) -> dict:
    answer = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        answer["headers"] = headers
    return answer


def _header(kind: str, description) -> dict:
    return {"schema": {"type": kind}, "description": description}
