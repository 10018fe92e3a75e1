"""POST /api/events/ and GET /api/events/: website actions from the shop (activity app).

A POST takes one event or a list of up to 500. Every item is validated before anything is
written: one bad item is a 400 with its field errors (a list answer, one entry per item) and
nothing is stored. A retry with a known (source, external_id) stores nothing again and answers
200 with `created: false`, as POST /api/purchases/ does.
"""
from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiResponse, PolymorphicProxySerializer, extend_schema, extend_schema_view,
)
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from activity.models import EventKind, WebsiteEvent
from activity.selectors import events_for_api
from activity.services import MAX_BATCH, event_clean, event_record, events_record
from customers.models import Contact
from customers.normalise import normalise_email

from .fields import IdFilterField, StrictPrimaryKeyRelatedField
from .parsers import LimitedJSONParser
from .serializers import PurchaseTimeField, StrictFieldsMixin
from .throttling import CountRefusalsMixin

# A full batch of 500 events with properties is larger than the API's default body limit.
EVENTS_MAX_BODY_BYTES = 2 * 1024 * 1024


class EventsJSONParser(LimitedJSONParser):
    """As LimitedJSONParser, with room for a full batch."""

    def max_body_bytes(self) -> int:
        return max(settings.CRM_API_MAX_BODY_BYTES, EVENTS_MAX_BODY_BYTES)


class EventKindField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=EventKind.choices, **kwargs)


class EventInputSerializer(StrictFieldsMixin, serializers.Serializer):
    contact = StrictPrimaryKeyRelatedField(
        queryset=Contact.objects.all(), required=False,
        help_text=_("The contact's id; or give email instead."))
    email = serializers.CharField(
        max_length=254, required=False,
        help_text=_("The contact's email; a new contact (a prospect, without marketing "
                    "consent) is created when none has it."))
    kind = EventKindField()
    name = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="",
        help_text=_("A short label: the product's name, the page, the search words; required "
                    "for custom actions."))
    properties = serializers.JSONField(
        required=False, default=dict,
        help_text=_("A JSON object of up to 20 flat values (text, numbers, true/false, null, "
                    "or lists of these), at most 4096 bytes."))
    occurred_at = PurchaseTimeField(
        help_text=_("When it happened: ISO 8601 with an offset; at most two years ago."))
    source = serializers.CharField(max_length=32, default="api",
                                   help_text=_("Where the event came from, such as the shop."))
    external_id = serializers.CharField(
        max_length=128, required=False, allow_null=True, allow_blank=True,
        help_text=_("The event's id in the source system: a retry with the same source and "
                    "external_id is recorded once."))

    def validate_email(self, value: str) -> str:
        return normalise_email(value)

    def validate(self, attrs: dict) -> dict:
        if ("contact" in attrs) == ("email" in attrs):
            raise serializers.ValidationError(
                {"contact": [_("Give either contact (an id) or email, not both.")]})
        cleaned = event_clean(kind=attrs["kind"], occurred_at=attrs["occurred_at"],
                              name=attrs["name"], properties=attrs["properties"],
                              source=attrs["source"])
        return {**attrs, **cleaned}


class EventSerializer(serializers.ModelSerializer):
    kind = EventKindField(read_only=True)
    occurred_at = PurchaseTimeField(read_only=True)
    received_at = PurchaseTimeField(read_only=True)

    class Meta:
        model = WebsiteEvent
        fields = ["id", "contact", "kind", "name", "properties", "occurred_at", "received_at",
                  "source", "external_id"]
        read_only_fields = fields


class EventRecordedSerializer(EventSerializer):
    created = serializers.BooleanField(
        read_only=True,
        help_text=_("False when (source, external_id) was recorded before: nothing changed."))

    class Meta(EventSerializer.Meta):
        fields = [*EventSerializer.Meta.fields, "created"]
        read_only_fields = fields


class EventFilterSerializer(serializers.Serializer):
    contact = IdFilterField(required=False)
    kind = EventKindField(required=False)


_ONE_OR_MANY = PolymorphicProxySerializer(
    component_name="EventInputOneOrMany",
    serializers=[EventInputSerializer, EventInputSerializer(many=True)],
    resource_type_field_name=None, many=False,
)
_RECORDED_ONE_OR_MANY = PolymorphicProxySerializer(
    component_name="EventRecordedOneOrMany",
    serializers=[EventRecordedSerializer, EventRecordedSerializer(many=True)],
    resource_type_field_name=None, many=False,
)


@extend_schema_view(
    get=extend_schema(parameters=[EventFilterSerializer], summary=_("List website events")),
)
class EventListCreate(CountRefusalsMixin, generics.ListCreateAPIView):
    serializer_class = EventSerializer
    parser_classes = [EventsJSONParser]
    required_permissions = {"GET": "activity.view_websiteevent",
                            "POST": "activity.add_websiteevent"}

    def get_queryset(self) -> QuerySet:
        filters = EventFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return events_for_api(contact_id=filters.validated_data.get("contact"),
                              kind=filters.validated_data.get("kind", ""))

    @extend_schema(
        summary=_("Record website events: one, or a list of up to 500 (idempotent on source "
                  "and external_id)"),
        request=_ONE_OR_MANY,
        responses={201: _RECORDED_ONE_OR_MANY,
                   200: OpenApiResponse(_RECORDED_ONE_OR_MANY,
                                        description=_("Every event was recorded before."))},
    )
    def post(self, request: Request, *args, **kwargs) -> Response:
        many = isinstance(request.data, list)
        items = _validated(request.data, many=many)
        _check_may_create_contacts(request, items)
        if many:
            results = events_record(events=items)
        else:
            results = [event_record(**items[0])]
        answers = []
        for result in results:
            result.event.created = result.created
            answers.append(EventRecordedSerializer(result.event).data)
        created = any(result.created for result in results)
        return Response(answers if many else answers[0],
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


def _validated(data, *, many: bool) -> list[dict]:
    if many and not data:
        raise ValidationError({"non_field_errors": [_("Send at least one event.")]})
    if many and len(data) > MAX_BATCH:
        raise ValidationError({"non_field_errors": [
            _("At most %(max)d events at a time; split the list.") % {"max": MAX_BATCH}]})
    serializer = EventInputSerializer(data=data, many=many)
    serializer.is_valid(raise_exception=True)
    return list(serializer.validated_data) if many else [serializer.validated_data]


def _check_may_create_contacts(request: Request, items: list[dict]) -> None:
    """An event by email creates the contact when it is new: that needs add_contact too."""
    emails = {item["email"] for item in items if "email" in item}
    if not emails or request.user.has_perm("customers.add_contact"):
        return
    known = set(Contact.objects.filter(email__in=emails).values_list("email", flat=True))
    if emails - known:
        raise PermissionDenied(_("You may record events of known contacts only: give the id "
                                 "or email of an existing contact."))
