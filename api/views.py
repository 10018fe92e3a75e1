"""API endpoints: parse, check permissions, call the same services as the dashboard and admin.

Every view is marked login_not_required in api/urls.py: DRF authenticates (token or session)
and answers 401/403 itself instead of the site's redirect to the login page.
"""
import functools

from django.db import IntegrityError, transaction
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from customers.consent.models import ConsentMethod
from customers.consent.services import consent_language, consent_wording_for
from customers.services.contacts import contact_create, contact_set_consent, contact_update
from customers.services.purchases import PurchaseResult, purchase_known, purchase_record
from customers.services.purchases import purchase_record_by_email
from customers.services.refunds import purchase_refund_to
from customers.models import Contact, ContactScore, Purchase, PurchaseLine
from customers.scoring.runs import current_run

from .serializers import (
    ContactFilterSerializer, ContactScoreSerializer, ContactSerializer, PurchaseFilterSerializer,
    PurchaseInputSerializer, PurchaseRecordedSerializer, PurchaseRefundSerializer,
    PurchaseSerializer,
)
from .throttling import CountRefusalsMixin


def _duplicate_email() -> ValidationError:
    return ValidationError({"email": [_("A contact with this email already exists.")]})


def contacts_filter(contacts: QuerySet, filters: dict) -> QuerySet:
    if filters.get("stage"):
        contacts = contacts.filter(stage=filters["stage"])
    if filters.get("email"):
        contacts = contacts.filter(email=filters["email"].strip().lower())
    if filters.get("q"):
        contacts = contacts.search(filters["q"].strip())
    if filters.get("updated_since"):
        contacts = contacts.filter(updated_at__gte=filters["updated_since"])
    return contacts


@extend_schema_view(
    get=extend_schema(parameters=[ContactFilterSerializer], summary=_("List contacts")),
    post=extend_schema(summary=_("Create a contact"), responses={201: ContactSerializer}),
)
class ContactListCreate(CountRefusalsMixin, generics.ListCreateAPIView):
    serializer_class = ContactSerializer
    required_permissions = {"GET": "customers.view_contact", "POST": "customers.add_contact"}

    def get_queryset(self) -> QuerySet:
        contacts = Contact.objects.all()
        if self.request.method != "GET":
            return contacts
        filters = ContactFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return contacts_filter(contacts, filters.validated_data)

    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if Contact.objects.filter(email=data["email"]).exists():
            raise _duplicate_email()
        if "marketing_consent" in data and not data.get("consent_source"):
            data["consent_source"] = "api"
        consent = _consent_details(request, data, data.get("language", ""))
        try:
            with transaction.atomic():
                contact = contact_create(**data, **consent)
        except IntegrityError:  # created by a concurrent request since the check above
            raise _duplicate_email() from None
        return Response(ContactSerializer(contact).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(summary=_("Read a contact")),
    patch=extend_schema(summary=_("Change a contact (personal fields, owner, consent)")),
)
class ContactDetail(CountRefusalsMixin, generics.RetrieveUpdateAPIView):
    serializer_class = ContactSerializer
    queryset = Contact.objects.all()
    http_method_names = ["get", "patch", "head", "options"]
    required_permissions = {"GET": "customers.view_contact", "PATCH": "customers.change_contact"}

    def update(self, request: Request, *args, **kwargs) -> Response:
        contact = self.get_object()
        serializer = self.get_serializer(contact, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        if "email" in changes and Contact.objects.filter(email=changes["email"]).exclude(
                pk=contact.pk).exists():
            raise _duplicate_email()
        try:
            with transaction.atomic():
                contact = _contact_change(request, contact, changes)
        except IntegrityError:
            raise _duplicate_email() from None
        return Response(ContactSerializer(contact).data)


def _consent_details(request: Request, data: dict, contact_language: str) -> dict:
    """Pop consent_wording/consent_evidence; return contact_create's consent arguments.

    The wording is the named version (else the current one) in the contact's language, else
    the request's (Accept-Language), else the shop's. An unknown version is a 400 before
    anything is stored.
    """
    version = data.pop("consent_wording", "")
    evidence = data.pop("consent_evidence", "")
    if not data.get("marketing_consent"):
        if version or evidence:
            raise ValidationError({"consent_wording": [
                _("A consent wording or evidence needs marketing_consent: true.")]})
        return {}
    language = consent_language(None, contact_language or getattr(request, "LANGUAGE_CODE", ""))
    return {"consent_method": ConsentMethod.API, "consent_evidence": evidence,
            "consent_wording": consent_wording_for(language=language, version=version),
            "recorded_by": request.user}


def _contact_change(request: Request, contact: Contact, changes: dict) -> Contact:
    consent = _consent_details(request, changes, changes.get("language") or contact.language)
    given = changes.pop("marketing_consent", None)
    source = changes.pop("consent_source", None) or "api"
    if changes:
        contact = contact_update(contact=contact, **changes)
    if given is not None:
        contact = contact_set_consent(
            contact=contact, consent=given, source=source, method=ConsentMethod.API,
            wording=consent.get("consent_wording"), evidence=consent.get("consent_evidence", ""),
            recorded_by=request.user)
    return contact


class ContactScoreView(CountRefusalsMixin, generics.GenericAPIView):
    serializer_class = ContactScoreSerializer
    required_permissions = {"GET": "customers.view_contactscore"}

    @extend_schema(summary=_("A contact's current scores"), responses={
        200: ContactScoreSerializer,
        404: OpenApiResponse(description=_("No such contact, or not scored yet.")),
    })
    def get(self, request: Request, pk: int) -> Response:
        if not Contact.objects.filter(pk=pk).exists():
            raise NotFound(_("No contact with this id."))
        run = current_run()
        score = (ContactScore.objects.select_related("run").filter(contact_id=pk, run=run).first()
                 if run else None)
        if score is None:
            raise NotFound(_("This contact has no score yet: contacts are scored after the "
                             "scoring run (nightly) that follows their first purchase."))
        return Response(self.get_serializer(score).data)


@extend_schema_view(
    get=extend_schema(parameters=[PurchaseFilterSerializer], summary=_("List purchases")),
)
class PurchaseListCreate(CountRefusalsMixin, generics.ListCreateAPIView):
    serializer_class = PurchaseSerializer
    required_permissions = {"GET": "customers.view_purchase", "POST": "customers.add_purchase"}

    def get_queryset(self) -> QuerySet:
        purchases = Purchase.objects.prefetch_related(
            Prefetch("lines", PurchaseLine.objects.select_related("product")))
        filters = PurchaseFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        if filters.validated_data.get("contact"):
            purchases = purchases.filter(contact_id=filters.validated_data["contact"])
        return purchases

    @extend_schema(
        summary=_("Record a purchase (idempotent on source and external_id)"),
        request=PurchaseInputSerializer,
        responses={201: PurchaseRecordedSerializer,
                   200: OpenApiResponse(PurchaseRecordedSerializer,
                                        description=_("Recorded before: the existing purchase."))},
    )
    def post(self, request: Request, *args, **kwargs) -> Response:
        serializer = PurchaseInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        _check_may_create_contact(request, serializer.validated_data)
        result = purchase_record_from_api(serializer.validated_data, user=request.user)
        purchase = result.purchase
        purchase.created, purchase.code_outcome = result.created, result.code_outcome
        if result.created and not serializer.validated_data.get("lines"):
            # A new order without lines has none: answer without asking.
            purchase._prefetched_objects_cache = {"lines": []}  # type: ignore[attr-defined]
        return Response(_recorded_serializer().to_representation(purchase),
                        status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)


class PurchaseRefund(CountRefusalsMixin, generics.GenericAPIView):
    """A shop reports a refund: the order's total refunded so far and/or each refunded line's
    quantity refunded so far (idempotent)."""

    serializer_class = PurchaseRefundSerializer
    required_permissions = {"POST": "customers.change_purchase"}

    @extend_schema(
        summary=_("Report a refund of an order (its total refunded so far, or its lines')"),
        request=PurchaseRefundSerializer,
        responses={200: PurchaseSerializer, 404: OpenApiResponse(
            description=_("No purchase has this source and external_id."))},
    )
    def post(self, request: Request, *args, **kwargs) -> Response:
        serializer = PurchaseRefundSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        purchase = purchase_known(source=data["source"], external_id=data["external_id"])
        if purchase is None:
            raise NotFound(_("No purchase has this source and external_id."))
        lines = {line["line"]: line["refunded_quantity"] for line in data.get("lines") or []}
        purchase, _changed = purchase_refund_to(
            purchase=purchase, refunded_total=data.get("refunded_amount"), lines=lines or None)
        return Response(PurchaseSerializer(purchase).data)


@functools.cache
def _recorded_serializer() -> PurchaseRecordedSerializer:
    """Built once per process: a ModelSerializer derives its fields from the model on every
    instance, which was a tenth of a purchase POST. Representing an object changes nothing on
    the serializer, so one instance serves every request."""
    return PurchaseRecordedSerializer()


def _check_may_create_contact(request: Request, data: dict) -> None:
    """A purchase by email creates the contact when it is new: that needs add_contact too."""
    if "email" in data and not request.user.has_perm("customers.add_contact") and not (
            Contact.objects.filter(email=data["email"]).exists()):
        raise PermissionDenied(_("You may record purchases of known contacts only: give the id "
                                 "or email of an existing contact."))


def purchase_record_from_api(data: dict, *, user) -> PurchaseResult:
    data = dict(data)
    if "contact" in data:
        data.pop("first_name", None), data.pop("last_name", None)
        return purchase_record(recorded_by=user, refresh_contact=False, **data)
    return purchase_record_by_email(recorded_by=user, **data)
