"""What the API reads and writes. Validation that the services own stays in the services:
the serializers check types and shapes, then call the same cleaning functions (customers.money,
customers.normalise, services.purchase_clean) so every error comes back in one 400."""
import datetime as dt
from collections.abc import Mapping

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from campaigns.coupons import CodeOutcome
from customers.channels import channel_label_clean
from customers.models import Channel, Contact, ContactScore, Purchase, PurchaseLine, Stage
from customers.money import parse_amount
from customers.normalise import normalise_email, parse_purchase_time, shop_timezone
from customers.owners import OWNER_REFUSED, eligible_owners, owner_choices
from customers.phones import normalise_phone
from customers.services.lines import lines_prepare
from customers.services.purchases import purchase_clean

from .fields import (
    IdFilterField, StrictDateTimeField, StrictIntegerField, StrictPrimaryKeyRelatedField,
)


class StrictFieldsMixin:
    """Refuse fields the serializer does not write: a typo ("ammount") must not pass silently."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(set(data) - writable)
            if unknown:
                raise serializers.ValidationError(
                    {name: [_("Unknown or read-only field.")] for name in unknown})
        return super().to_internal_value(data)


class ContactSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    email = serializers.CharField(max_length=254, help_text=_("Stored trimmed and lower-case."))
    # customers.owners' rule, with its refusal; contact_create/contact_update check it again.
    owner = StrictPrimaryKeyRelatedField(
        queryset=eligible_owners(), required=False, allow_null=True,
        error_messages={"does_not_exist": OWNER_REFUSED},
        help_text=_("An active user with the sales staff or manager role, or null."))
    phone = serializers.CharField(
        max_length=32, required=False, allow_blank=True,
        help_text=_("Any usual spelling (+90 532 123 45 67; without the country code for a "
                    "number in the shop's country); stored and returned in E.164, such as "
                    "+905321234567."))
    stage = serializers.ChoiceField(choices=Stage.choices, read_only=True)
    # Written to the consent ledger with marketing_consent: true (customers.consent.services).
    consent_wording = serializers.CharField(
        max_length=32, required=False, write_only=True,
        help_text=_("Version of the consent wording the person agreed to, in the contact's "
                    "language; default: the current wording."))
    consent_evidence = serializers.CharField(
        max_length=200, required=False, allow_blank=True, write_only=True,
        help_text=_("How consent was given, e.g. checkbox on the checkout page, order 1234. "
                    "No personal data."))

    class Meta:
        model = Contact
        fields = [
            "id", "email", "first_name", "last_name", "phone", "language", "marketing_consent",
            "consent_changed_at", "consent_source", "consent_wording", "consent_evidence",
            "owner", "stage", "purchase_count",
            "first_purchase_at", "last_purchase_at", "total_spent", "created_at", "updated_at",
        ]
        read_only_fields = [
            "id", "consent_changed_at", "purchase_count", "first_purchase_at",
            "last_purchase_at", "total_spent", "created_at", "updated_at",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A PATCH may send back the current owner who has since left the roles (the service
        # checks only a change of owner).
        if isinstance(self.instance, Contact) and self.instance.owner_id is not None:
            self.fields["owner"].queryset = owner_choices(current=self.instance.owner_id)

    def validate_email(self, value: str) -> str:
        return normalise_email(value)

    def validate_phone(self, value: str) -> str:
        return normalise_phone(value)


class ContactFilterSerializer(serializers.Serializer):
    """Query parameters of the contact list; an invalid one is a 400, not an ignored filter."""

    stage = serializers.ChoiceField(choices=Stage.choices, required=False)
    email = serializers.CharField(max_length=254, required=False,
                                  help_text=_("Exact address, any capitalisation."))
    q = serializers.CharField(max_length=100, required=False,
                              help_text=_("Words found in the email or name."))
    updated_since = StrictDateTimeField(
        required=False,
        help_text=_("ISO 8601 date-time; without an offset it is in the shop's time zone."))



class PurchaseFilterSerializer(serializers.Serializer):
    contact = IdFilterField(required=False)


@extend_schema_field(OpenApiTypes.STR)
class PurchaseTimeField(serializers.Field):
    """ISO 8601 date-time with an offset, or a date (midnight in the shop's time zone)."""

    default_error_messages = {
        "invalid": _("Give an ISO 8601 date (2024-05-31) or date-time with offset "
                     "(2024-05-31T14:30:00+03:00)."),
        "naive": _("This date-time has no time zone offset: add one, such as +03:00 or Z."),
    }

    def to_internal_value(self, data) -> dt.datetime:
        if not isinstance(data, str):
            self.fail("invalid")
        text = data.strip()
        if len(text) == 10:
            return parse_purchase_time(text)
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            self.fail("invalid")
        if timezone.is_naive(value):
            self.fail("naive")
        return value

    def to_representation(self, value: dt.datetime) -> str:
        # In the shop's zone, as stored values read back: a retry answers like the first call.
        return value.astimezone(shop_timezone()).isoformat()


@extend_schema_field(OpenApiTypes.STR)
class AmountField(serializers.Field):
    """A decimal string ("19.90"): JSON numbers are floats and would lose cents."""

    default_error_messages = {
        "not_string": _('Send the amount as a decimal string, such as "19.90".'),
    }

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_string")
        return parse_amount(data)

    def to_representation(self, value) -> str:
        return str(value)


@extend_schema_field(OpenApiTypes.STR)
class QuantityField(serializers.Field):
    """A quantity: a decimal string ("1.250", weighed goods) or a whole JSON number."""

    default_error_messages = {
        "invalid": _('Send the quantity as a whole number or a decimal string, such as '
                     '"1.250".'),
    }

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, str | int):
            self.fail("invalid")
        return str(data).strip()

    def to_representation(self, value) -> str:
        return str(value)


class PurchaseLineInputSerializer(StrictFieldsMixin, serializers.Serializer):
    sku = serializers.CharField(
        max_length=128, required=False, allow_blank=True, default="",
        help_text=_("The shop's SKU or product id; a line without one is keyed by its name."))
    name = serializers.CharField(max_length=255, required=False, allow_blank=True,
                                 default="", help_text=_("The product's name."))
    category = serializers.CharField(max_length=255, required=False, allow_blank=True,
                                     default="", help_text=_("The product's category."))
    quantity = QuantityField(help_text=_("Above zero; up to 3 decimal places (weighed "
                                         "goods)."))
    unit_price = AmountField(help_text=_("Price of one unit, in the purchase's currency."))
    discount = AmountField(required=False, help_text=_(
        "The line's discount in money (not per unit); the line's total is quantity x unit "
        "price - discount."))


class PurchaseInputSerializer(StrictFieldsMixin, serializers.Serializer):
    contact = StrictPrimaryKeyRelatedField(
        queryset=Contact.objects.all(), required=False,
        help_text=_("The contact's id; or give email instead."))
    email = serializers.CharField(
        max_length=254, required=False,
        help_text=_("The contact's email; a new contact is created when none has it."))
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True,
                                       help_text=_("Used only when a contact is created."))
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True,
                                      help_text=_("Used only when a contact is created."))
    purchased_at = PurchaseTimeField()
    amount = AmountField(required=False, help_text=_(
        "Required without lines; with lines, it must be what they add up to (within one "
        "minor unit per line), or left out to take their sum."))
    currency = serializers.CharField(max_length=3, help_text=_("ISO 4217 code, such as EUR."))
    quantity = StrictIntegerField(min_value=1, max_value=1_000_000, required=False, help_text=_(
        "Items; by default the lines' quantities added up (a weighed line counts as one), "
        "else 1."))
    lines = PurchaseLineInputSerializer(many=True, required=False, help_text=_(
        "The products bought (optional). The shop's catalogue is kept from them."))
    channel = serializers.CharField(
        default=Channel.ONLINE, allow_blank=True,
        help_text=_("The shop's own channel label (such as web, app or Trendyol), kept as "
                    "written and mapped to a reporting channel; or one of online, store, "
                    "phone, marketplace, other. An unknown label counts as other."))
    source = serializers.CharField(max_length=32, default="api")
    external_id = serializers.CharField(
        max_length=128, required=False, allow_null=True, allow_blank=True,
        help_text=_("The order's id in the source system: a retry with the same source and "
                    "external_id returns the purchase already recorded."))
    code = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")

    def validate_email(self, value: str) -> str:
        return normalise_email(value)

    def validate_channel(self, value: str) -> str:
        return channel_label_clean(value)

    def validate(self, attrs: dict) -> dict:
        if ("contact" in attrs) == ("email" in attrs):
            raise serializers.ValidationError(
                {"contact": [_("Give either contact (an id) or email, not both.")]})
        amount = attrs.get("amount")
        if attrs.get("lines"):
            try:
                amount = lines_prepare(attrs["lines"], currency=attrs["currency"],
                                       amount=amount).amount
            except DjangoValidationError as error:
                raise serializers.ValidationError(error.message_dict) from None
        elif amount is None:
            raise serializers.ValidationError(
                {"amount": [_("Give the amount, or the lines it is made of.")]})
        cleaned = purchase_clean(purchased_at=attrs["purchased_at"], amount=amount,
                                 currency=attrs["currency"])
        return {**attrs, "amount": attrs.get("amount"), "currency": cleaned["currency"]}


class LineRefundSerializer(StrictFieldsMixin, serializers.Serializer):
    line = StrictIntegerField(min_value=1, help_text=_(
        "The line's id, as the purchase's lines give it."))
    refunded_quantity = QuantityField(help_text=_(
        "The quantity of this line refunded so far (in total, not this refund alone): sending "
        "it again changes nothing; a lower quantity is refused."))


class PurchaseRefundSerializer(StrictFieldsMixin, serializers.Serializer):
    source = serializers.CharField(max_length=32, default="api",
                                   help_text=_("The source the order was recorded under."))
    external_id = serializers.CharField(max_length=128,
                                        help_text=_("The order's id in the source system."))
    refunded_amount = AmountField(required=False, help_text=_(
        "The order's total refunded so far, in its currency, as a decimal string: sending the "
        "same total again changes nothing; the whole amount is a full refund. Required "
        "without lines; with lines and no total, the total grows by what the newly refunded "
        "quantities are worth (all of the order's goods refunded: a full refund)."))
    lines = LineRefundSerializer(many=True, required=False, max_length=500, help_text=_(
        "The order's lines refunded (optional): each line's quantity refunded so far."))

    def validate(self, attrs: dict) -> dict:
        if "refunded_amount" not in attrs and not attrs.get("lines"):
            raise serializers.ValidationError({"refunded_amount": [
                _("Give the total refunded so far, or the lines refunded.")]})
        lines = attrs.get("lines") or []
        if len({line["line"] for line in lines}) != len(lines):
            raise serializers.ValidationError({"lines": [_("Give each line once.")]})
        return attrs


class PurchaseLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    name = serializers.CharField(source="product.name", read_only=True)
    category = serializers.CharField(source="product.category", read_only=True)

    class Meta:
        model = PurchaseLine
        fields = ["id", "sku", "name", "category", "quantity", "unit_price", "discount",
                  "total", "total_base", "refunded_quantity"]
        read_only_fields = fields


class PurchaseSerializer(serializers.ModelSerializer):
    purchased_at = PurchaseTimeField(read_only=True)
    lines = serializers.SerializerMethodField(help_text=_(
        "The products bought; empty for a purchase recorded without lines."))
    provisional = serializers.BooleanField(
        source="is_provisional", read_only=True, help_text=_(
            "No exchange rate for the purchase day yet: amount_base is null until one "
            "arrives (the daily rates or a manager's), then it is converted."))

    class Meta:
        model = Purchase
        fields = [
            "id", "contact", "purchased_at", "amount", "currency", "amount_base", "provisional",
            "quantity", "channel", "channel_label", "source", "external_id", "code",
            "refunded_at", "refunded_amount",
            "created_at", "lines",
        ]
        read_only_fields = fields

    @extend_schema_field(PurchaseLineSerializer(many=True))
    def get_lines(self, purchase: Purchase) -> list:
        # Prefetched by a list (one query a page); else read with their products.
        cache = getattr(purchase, "_prefetched_objects_cache", {})
        lines = cache["lines"] if "lines" in cache else purchase.lines.select_related("product")
        return PurchaseLineSerializer(lines, many=True).data


class PurchaseRecordedSerializer(PurchaseSerializer):
    """The answer to a POST: the purchase, whether this request created it, and the code."""

    created = serializers.BooleanField(
        read_only=True,
        help_text=_("False when (source, external_id) was recorded before: nothing changed."))
    code_outcome = serializers.ChoiceField(
        read_only=True, choices=[("", _("Not applied by this request")), *CodeOutcome.choices])

    class Meta(PurchaseSerializer.Meta):
        fields = [*PurchaseSerializer.Meta.fields, "created", "code_outcome"]
        read_only_fields = fields


class ContactScoreSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="run.chosen_model",
                                  help_text=_("The model that produced the scores."))
    run = serializers.IntegerField(source="run_id")
    horizon_days = serializers.IntegerField(source="run.horizon_days")

    class Meta:
        model = ContactScore
        fields = [
            "contact", "p_buy_again", "p_alive", "expected_purchases", "expected_value",
            "predicted_value_12m", "scored_at", "model", "run", "horizon_days",
        ]
        read_only_fields = fields
