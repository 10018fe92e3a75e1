import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.shop import shop

from .consent import models as consent_models  # noqa: F401 - registers the ledger's models
from .normalise import channel_key
from .querysets import ContactQuerySet, PurchaseQuerySet


class Stage(models.TextChoices):
    PROSPECT = "prospect", _("Prospect")
    ONE_TIME = "one_time", _("One-time buyer")
    REPEAT = "repeat", _("Repeat client")


class Channel(models.TextChoices):
    ONLINE = "online", _("Online shop")
    STORE = "store", _("Store")
    PHONE = "phone", _("Phone")
    MARKETPLACE = "marketplace", _("Marketplace")
    OTHER = "other", _("Other")


CHANNEL_LABEL_MAX_LENGTH = 100


class ChannelMapping(models.Model):
    """A shop's channel label (matched case- and Turkish-İ-insensitively: the key) and the
    reporting channel it counts as. A blank channel is a label seen but not mapped yet: its
    purchases count as "other" until a manager maps it (customers.channels)."""

    label = models.CharField(_("label"), max_length=CHANNEL_LABEL_MAX_LENGTH,
                             help_text=_("Matched ignoring case: Web, WEB and web are one label."))
    # The label folded (customers.normalise.channel_key): what purchases' labels are matched on.
    # Text, not 100 characters: folding can lengthen a label ("ß" is "ss", "ﬃ" is "ffi").
    key = models.TextField(_("key"), unique=True, editable=False)
    channel = models.CharField(_("reporting channel"), max_length=16, choices=Channel.choices,
                               blank=True)
    seen = models.PositiveIntegerField(
        _("times seen unmapped"), default=0,
        help_text=_("Purchases recorded with this label while it was not mapped."))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("channel mapping")
        verbose_name_plural = _("channel mappings")
        ordering = ["key"]

    def __str__(self) -> str:
        return self.label

    def save(self, *args, **kwargs):
        self.label = " ".join(self.label.split())
        self.key = channel_key(self.label)
        super().save(*args, **kwargs)


class Contact(models.Model):
    """A person the business sells to. Personal data is kept to what the CRM needs."""

    email = models.EmailField(_("email"), max_length=254, unique=True)
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    # Emails and the public pages (unsubscribe, survey) use it; blank = the shop's default.
    # db_default: the raw-SQL inserts (imports, bench data) that do not name it still work.
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, blank=True, default="",
        db_default="",
        help_text=_("For emails and public pages; empty means the shop's default language."),
    )
    marketing_consent = models.BooleanField(_("marketing consent"), default=False)
    consent_changed_at = models.DateTimeField(_("consent changed at"), null=True, blank=True)
    consent_source = models.CharField(
        _("consent source"), max_length=64, blank=True,
        help_text=_("Where consent was given or withdrawn, e.g. checkout, import, staff."),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="owned_contacts",
        db_index=False,  # contact_owner_stage_idx leads with owner
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    # Derived from purchases by customers.stats only; never edited by hand.
    purchase_count = models.PositiveIntegerField(
        _("purchases"), default=0, editable=False,
        help_text=_("Purchase days: purchases on one calendar day count as one transaction."),
    )
    first_purchase_at = models.DateTimeField(_("first purchase"), null=True, editable=False)
    last_purchase_at = models.DateTimeField(_("last purchase"), null=True, editable=False)
    total_spent = models.DecimalField(
        _("total spent"), max_digits=18, decimal_places=3, default=0, editable=False,
        help_text=_("In the base currency, refunds excluded."),
    )
    stage = models.GeneratedField(
        expression=Case(
            When(purchase_count=0, then=Value(Stage.PROSPECT.value)),
            When(purchase_count=1, then=Value(Stage.ONE_TIME.value)),
            default=Value(Stage.REPEAT.value),
        ),
        output_field=models.CharField(max_length=16, choices=Stage.choices),
        db_persist=True,
        verbose_name=_("stage"),
    )

    objects = ContactQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-id"]
        constraints = [
            # Stored lower-case, so the plain unique index is a case-insensitive one.
            models.CheckConstraint(condition=Q(email=Lower("email")), name="contact_email_lowercase"),
        ]
        indexes = [
            models.Index(fields=["stage", "last_purchase_at"], name="contact_stage_last_idx"),
            models.Index(fields=["last_purchase_at"], name="contact_last_purchase_idx"),
            # The contact list's "total spent" order, read top-down (keyset). Its default order
            # (last purchase, NULLs last) has a PostgreSQL-only index: migration 0007.
            models.Index(F("total_spent").desc(), F("id").desc(), name="contact_spent_idx"),
            # ... and its "purchases" order. The name order's indexes are one per collation
            # (ICU, PostgreSQL only): migration 0022.
            models.Index(F("purchase_count").desc(), F("id").desc(),
                         name="contact_purchases_idx"),
            # The API's "changed since" feed for integrations.
            models.Index(fields=["updated_at", "id"], name="contact_updated_idx"),
            models.Index(fields=["owner", "stage"], name="contact_owner_stage_idx"),
        ]

    def __str__(self) -> str:
        name = self.full_name
        return f"{name} <{self.email}>" if name else self.email

    def clean(self) -> None:
        from .normalise import normalise_email

        self.email = normalise_email(self.email)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_stage_display(self) -> str:
        # A GeneratedField gets no get_FOO_display(); its choices live on the output field.
        return Stage(self.stage).label if self.stage else ""


class Purchase(models.Model):
    """One order. Refunded orders stay for the record but never count as purchases."""

    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), on_delete=models.CASCADE, related_name="purchases",
        db_index=False,  # purchase_contact_date_idx leads with contact
    )
    purchased_at = models.DateTimeField(_("purchased at"))
    # The shop-local calendar day: the unit of a transaction in the lifecycle and the models.
    purchased_on = models.DateField(_("purchase day"), editable=False)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=3)
    currency = models.CharField(_("currency"), max_length=3)
    # NULL while provisional: no exchange rate for the purchase day yet (customers.services.
    # rates converts it when one arrives). Money figures leave it out until then.
    amount_base = models.DecimalField(
        _("amount in base currency"), max_digits=18, decimal_places=3, editable=False,
        null=True,
    )
    quantity = models.PositiveIntegerField(_("items"), default=1)
    # The reporting channel (KPIs, scoring, audiences): the shop's own label mapped through
    # ChannelMapping (customers.channels).
    channel = models.CharField(
        _("channel"), max_length=16, choices=Channel.choices, default=Channel.ONLINE
    )
    # The shop's own label as written (trimmed): "web", "app", "Trendyol"...
    channel_label = models.CharField(
        _("channel label"), max_length=CHANNEL_LABEL_MAX_LENGTH, blank=True, default="",
        db_default="", help_text=_("The shop's own name for the channel, as written."))
    source = models.CharField(
        _("source"), max_length=32, default="manual",
        help_text=_("Where the record came from: manual, csv, api, demo, ..."),
    )
    external_id = models.CharField(  # noqa: DJ001 - NULL, not "": unique only when given
        _("external id"), max_length=128, null=True, blank=True,
        help_text=_("The order's id in the source system; unique per source."),
    )
    code = models.CharField(
        _("coupon or referral code"), max_length=64, blank=True
    )
    refunded_at = models.DateTimeField(_("refunded at"), null=True, blank=True, editable=False)
    # Partly refunded orders still count as a purchase; only their value is reduced. A refund of
    # the whole amount sets refunded_at as well.
    refunded_amount = models.DecimalField(
        _("amount refunded"), max_digits=14, decimal_places=3, default=0, db_default=0,
        editable=False)
    refunded_amount_base = models.DecimalField(
        _("amount refunded in base currency"), max_digits=18, decimal_places=3, default=0,
        db_default=0, editable=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
        # Never searched by; an index would only slow every insert (deleting a user scans).
        db_index=False,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = PurchaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("purchase")
        verbose_name_plural = _("purchases")
        ordering = ["-purchased_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], condition=Q(external_id__isnull=False),
                name="purchase_source_external_id_unique",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="purchase_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(amount_base__gte=0), name="purchase_amount_base_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0, refunded_amount__lte=F("amount")),
                name="purchase_refund_within_amount"),
        ]
        indexes = [
            models.Index(fields=["contact", "purchased_at"], name="purchase_contact_date_idx"),
            models.Index(fields=["purchased_at"], name="purchase_date_idx"),
            # The provisional purchases, waiting for an exchange rate: a handful, found without
            # reading the table whenever rates are saved (customers.services.rates).
            models.Index(fields=["currency", "purchased_on"], name="purchase_waiting_rate_idx",
                         condition=Q(amount_base__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} · {self.purchased_at:%Y-%m-%d}"

    @property
    def is_refunded(self) -> bool:
        return self.refunded_at is not None

    @property
    def is_provisional(self) -> bool:
        """No exchange rate for its purchase day yet: its base amount is not known."""
        return self.amount_base is None


class Product(models.Model):
    """The shop's catalogue as its orders show it: one row per product (its SKU or the shop's
    product id), named and categorised as the latest order that brought it said
    (customers.services.lines). `store` tells catalogues apart: "" is the shop's own (the
    dashboard, CSV import, REST API); a shop connector keeps its store's products apart."""

    store = models.CharField(
        _("store"), max_length=64, blank=True, default="", db_default="",
        help_text=_("Whose catalogue: blank for the shop's own; a connected store's key."))
    # A line without a SKU is keyed by its product name as written (trimmed).
    sku = models.CharField(_("SKU or product id"), max_length=128)
    name = models.CharField(_("product"), max_length=255, blank=True)
    category = models.CharField(_("category"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name", "sku"]
        constraints = [
            models.UniqueConstraint(fields=["store", "sku"], name="product_store_sku_unique"),
        ]

    def __str__(self) -> str:
        return self.name or self.sku


class PurchaseLine(models.Model):
    """One product in a purchase: how much, at what price, what it came to.

    `total` is quantity x unit price - discount, in the purchase's currency, rounded to its
    minor unit; the lines of a purchase add up to its amount (customers.services.lines).
    `total_base` is that in the base currency, NULL while the purchase waits for its rate
    (converted with it, customers.services.rates). Deleted with its purchase."""

    purchase = models.ForeignKey(
        Purchase, verbose_name=_("purchase"), on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="lines",
        db_index=False)  # line_product_purchase_idx leads with product
    # Decimal: weighed and measured goods (1.250 kg) as well as pieces.
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3)
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=3)
    discount = models.DecimalField(_("discount"), max_digits=14, decimal_places=3,
                                   default=0, db_default=0)
    total = models.DecimalField(_("line total"), max_digits=14, decimal_places=3)
    total_base = models.DecimalField(
        _("line total in base currency"), max_digits=18, decimal_places=3, null=True,
        editable=False)
    # How much of the quantity was refunded (customers.services.refunds).
    refunded_quantity = models.DecimalField(
        _("quantity refunded"), max_digits=12, decimal_places=3, default=0, db_default=0,
        editable=False)

    class Meta:
        verbose_name = _("purchase line")
        verbose_name_plural = _("purchase lines")
        ordering = ["purchase", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="line_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0, discount__gte=0, total__gte=0),
                                   name="line_money_not_negative"),
            models.CheckConstraint(
                condition=Q(refunded_quantity__gte=0, refunded_quantity__lte=F("quantity")),
                name="line_refund_within_quantity"),
        ]
        indexes = [
            # "Who bought X", co-occurrence and reorder intervals read lines by product.
            models.Index(fields=["product", "purchase"], name="line_product_purchase_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity:g} x {self.product}"


class ProductPair(models.Model):
    """"Customers who bought `product` also bought `other`": computed nightly from counted
    lines at contact level (customers.bought.pairs), kept for pairs bought by at least
    CRM_COOCCURRENCE_MIN_SUPPORT contacts, the best CRM_COOCCURRENCE_PER_PRODUCT per product.
    Both directions are stored (confidence differs by direction)."""

    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.CASCADE,
                                related_name="pairs", db_index=False)  # the unique index leads
    other = models.ForeignKey(Product, verbose_name=_("also bought"), on_delete=models.CASCADE,
                              related_name="+")
    contacts = models.PositiveIntegerField(_("contacts who bought both"))
    confidence = models.FloatField(_("share of the product's buyers"))
    lift = models.FloatField(_("lift"))
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("product pair")
        verbose_name_plural = _("product pairs")
        ordering = ["product", "-lift", "-contacts", "other"]
        constraints = [
            models.UniqueConstraint(fields=["product", "other"], name="product_pair_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} -> {self.other_id}"


class ProductReorder(models.Model):
    """A product's typical reorder interval across contacts (customers.bought.intervals):
    the median of the medians of contacts who bought it on at least two days; computed
    nightly, for products with at least CRM_REORDER_MIN_CONTACTS such contacts."""

    product = models.OneToOneField(Product, verbose_name=_("product"), on_delete=models.CASCADE,
                                   related_name="reorder")
    median_days = models.PositiveIntegerField(_("typical days between orders"))
    contacts = models.PositiveIntegerField(_("contacts who reordered it"))
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("product reorder interval")
        verbose_name_plural = _("product reorder intervals")

    def __str__(self) -> str:
        return f"{self.product_id}: {self.median_days}"


# The first day a purchase may carry (customers.normalise.EARLIEST_PURCHASE).
RATES_FROM = dt.date(1970, 1, 1)


class CurrencyRate(models.Model):
    """How many units of the base currency one unit of `currency` was worth from `day` on.

    A purchase is converted at the latest rate on or before its purchase day
    (customers.services.rates): a manual rate holds until a newer rate of its currency is
    recorded; a central bank's rate holds for MAX_RATE_AGE_DAYS, after which the purchase
    waits, provisional, for a fresh one."""

    class Source(models.TextChoices):
        MANUAL = "manual", _("Manual")
        TCMB = "tcmb", _("Central Bank of the Republic of Türkiye (TCMB)")
        ECB = "ecb", _("European Central Bank (ECB)")

    currency = models.CharField(_("currency"), max_length=3)
    # Without a day, a rate holds from the start (a manual rate, for every earlier purchase).
    day = models.DateField(
        _("valid from"), default=RATES_FROM, blank=True,
        help_text=_("The day the rate was published or set for; a manual rate holds from "
                    "this day until a newer rate of its currency."))
    rate = models.DecimalField(_("rate to base currency"), max_digits=24, decimal_places=12)
    source = models.CharField(_("source"), max_length=8, choices=Source.choices,
                              default=Source.MANUAL)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("currency rate")
        verbose_name_plural = _("currency rates")
        ordering = ["currency", "-day"]
        constraints = [
            models.CheckConstraint(condition=Q(rate__gt=0), name="currency_rate_positive"),
            models.UniqueConstraint(fields=["currency", "day"], name="currency_rate_one_a_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d}: 1 {self.currency} = {self.rate} {shop().base_currency}"


class RateFetch(models.Model):
    """One run of the daily exchange-rate fetch (customers.rates_feed), for the admin's
    status line: a failed run writes no rate and keeps the old ones."""

    class Outcome(models.TextChoices):
        SAVED = "saved", _("Rates saved")
        LATE = "late", _("Rates saved; the feed is late")
        FAILED = "failed", _("Failed; the previous rates are kept")

    feed = models.CharField(_("feed"), max_length=8, choices=CurrencyRate.Source.choices)
    fetched_at = models.DateTimeField(_("fetched at"), default=timezone.now)
    outcome = models.CharField(_("outcome"), max_length=8, choices=Outcome.choices)
    feed_day = models.DateField(_("feed's day"), null=True, blank=True)
    rates_saved = models.PositiveIntegerField(_("rates saved"), default=0)
    purchases_converted = models.PositiveIntegerField(_("purchases converted"), default=0)
    message = models.TextField(_("message"), blank=True)

    class Meta:
        verbose_name = _("exchange-rate fetch")
        verbose_name_plural = _("exchange-rate fetches")
        ordering = ["-fetched_at", "-id"]

    def __str__(self) -> str:
        return f"{self.fetched_at:%Y-%m-%d %H:%M} · {self.get_outcome_display()}"


class ScoringRun(models.Model):
    """One run of the scoring job: what was fitted, how it backtested, and how it went.

    Scores are written under their run and become the contacts' current scores only when the
    whole run succeeded (the newest published run), so a failed run leaves the previous ones.
    """

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        NOT_ENOUGH_DATA = "not_enough_data", _("Not enough data yet")
        FAILED = "failed", _("Failed")

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("Schedule")
        COMMAND = "command", _("Command")
        ADMIN = "admin", _("Admin")

    status = models.CharField(_("status"), max_length=16, choices=Status.choices,
                              default=Status.RUNNING)
    trigger = models.CharField(_("started by"), max_length=16, choices=Trigger.choices)
    # Who, for a run a manager started from the admin (trigger ADMIN); empty for the others.
    started_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("started by user"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+")
    as_of = models.DateField(_("as of"), help_text=_("Purchases after this day were ignored."))
    horizon_days = models.PositiveSmallIntegerField(_("horizon (days)"))
    publish = models.BooleanField(
        _("published"), default=True,
        help_text=_("Its scores become the contacts' current scores. Backtests on an earlier "
                    "as-of day are kept for their figures only."),
    )
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    chosen_model = models.CharField(_("model used"), max_length=32, blank=True)
    verdict = models.CharField(_("data verdict"), max_length=32, blank=True)
    fitted = models.JSONField(_("fitted models"), null=True, blank=True, editable=False)
    reports = models.JSONField(_("model reports"), default=list, blank=True, editable=False)
    counts = models.JSONField(_("counts"), default=dict, blank=True, editable=False)
    durations = models.JSONField(_("durations (s)"), default=dict, blank=True, editable=False)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("scoring run")
        verbose_name_plural = _("scoring runs")
        ordering = ["-started_at", "-id"]
        constraints = [
            # The lock that survives a second trigger, a second beat or a second machine.
            models.UniqueConstraint(fields=["status"], condition=Q(status="running"),
                                    name="scoring_one_run_at_a_time"),
        ]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} · {self.get_status_display()}"


class ContactScore(models.Model):
    """A contact's scores from one run; the published run's rows are the current scores."""

    run = models.ForeignKey(ScoringRun, verbose_name=_("run"), on_delete=models.CASCADE,
                            related_name="scores")
    contact = models.ForeignKey(Contact, verbose_name=_("contact"), on_delete=models.CASCADE,
                                related_name="scores", db_index=False)
    scored_at = models.DateTimeField(_("scored at"))
    p_buy_again = models.FloatField(_("probability to buy again"))
    # Pareto/NBD's, never below p_buy_again; NULL: unknown (customers/scoring/model/alive.py).
    p_alive = models.FloatField(_("probability still active"), null=True, blank=True)
    expected_purchases = models.FloatField(_("expected purchases"))
    expected_value = models.FloatField(_("expected spend per purchase"))
    predicted_value_12m = models.FloatField(_("predicted value, 12 months"))
    # What the contact is worth in 12 months if they stay active (NULL: unknown); the call
    # list's slipping clients are ranked by it times the drop in p_alive.
    value_if_active_12m = models.FloatField(_("value in 12 months if still active"), null=True,
                                            blank=True)
    # The history the numbers came from, for the plain-words explanation.
    frequency = models.PositiveIntegerField(_("repeat purchase days"))
    recency_days = models.PositiveIntegerField(_("days from first to last purchase"))
    age_days = models.PositiveIntegerField(_("days since first purchase"))

    class Meta:
        verbose_name = _("contact score")
        verbose_name_plural = _("contact scores")
        constraints = [
            models.UniqueConstraint(fields=["contact", "run"], name="score_one_per_contact_run"),
        ]
        indexes = [
            # The contact list's "likely to buy again" order read top-down (keyset: ties broken
            # by contact, as the list does); the call list uses its first two columns.
            models.Index(fields=["run", "-p_buy_again", "-contact"],
                         name="score_run_prob_contact_idx"),
            # The call list's one-time buyers by likelihood (frequency 0: no repeat purchase),
            # read top-down instead of walking every likelier repeat client first.
            models.Index(fields=["run", "frequency", "-p_buy_again"],
                         name="score_run_freq_prob_idx"),
            # ... and its slipping clients (P(alive) below a threshold).
            models.Index(fields=["run", "p_alive"], name="score_run_alive_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.contact_id}: {self.p_buy_again:.0%}"


class ScoringChunk(models.Model):
    """A range of contacts one task scores; its done flag makes a retried task a no-op."""

    run = models.ForeignKey(ScoringRun, on_delete=models.CASCADE, related_name="chunks")
    number = models.PositiveIntegerField()
    first_contact_id = models.BigIntegerField()
    last_contact_id = models.BigIntegerField()
    done = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("scoring chunk")
        verbose_name_plural = _("scoring chunks")
        constraints = [
            models.UniqueConstraint(fields=["run", "number"], name="scoring_chunk_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.run_id}/{self.number}: {self.first_contact_id}-{self.last_contact_id}"


class Note(models.Model):
    """What a member of staff wants colleagues to know about a contact."""

    contact = models.ForeignKey(Contact, verbose_name=_("contact"), on_delete=models.CASCADE,
                                related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), null=True,
                               on_delete=models.SET_NULL, related_name="+")
    body = models.TextField(_("note"), max_length=4000)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("note")
        verbose_name_plural = _("notes")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["contact", "-created_at"], name="note_contact_idx")]

    def __str__(self) -> str:
        return self.body[:60]


class FollowUp(models.Model):
    """A follow-up task for one member of staff: call, email, visit, by a due day."""

    contact = models.ForeignKey(Contact, verbose_name=_("contact"), on_delete=models.CASCADE,
                                related_name="follow_ups")
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("assigned to"),
                                    on_delete=models.CASCADE, related_name="follow_ups")
    title = models.CharField(_("what to do"), max_length=200)
    due_on = models.DateField(_("due"))
    # Optional time of day in the shop's time zone; without one the task is due all that day.
    due_time = models.TimeField(_("due at"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"),
                                   null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # The reminder email to the assignee (customers.services.follow_up_reminders): when it is
    # due (the due time, or CRM_FOLLOW_UP_REMIND_HOUR on the due day), and when it was claimed
    # for sending. A new assignee or due moment clears reminded_at (customers.followups).
    remind_at = models.DateTimeField(_("remind at"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("follow-up task")
        verbose_name_plural = _("follow-up tasks")
        ordering = ["due_on", "id"]
        indexes = [
            models.Index(fields=["assigned_to", "due_on"], condition=Q(done_at__isnull=True),
                         name="follow_up_open_idx"),
            models.Index(fields=["contact", "due_on"], name="follow_up_contact_idx"),
            # The reminder job's claim: open tasks not reminded yet, by when they are due.
            models.Index(fields=["remind_at"],
                         condition=Q(done_at__isnull=True, reminded_at__isnull=True),
                         name="follow_up_remind_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    @property
    def is_overdue(self) -> bool:
        """Open and past due in the active (the shop's) time zone: a day before today, or
        today's time gone by; a task with no time is overdue from the next day."""
        if self.done_at is not None:
            return False
        now = timezone.localtime()
        if self.due_on != now.date():
            return self.due_on < now.date()
        return self.due_time is not None and self.due_time <= now.time()


class CallOutcome(models.TextChoices):
    REACHED = "reached", _("Reached")
    NO_ANSWER = "no_answer", _("No answer")
    WRONG_NUMBER = "wrong_number", _("Wrong number")
    CALL_BACK = "call_back", _("Call back later")
    NOT_INTERESTED = "not_interested", _("Not interested")


class CallLog(models.Model):
    """A phone call a member of staff made to a contact, and how it went; written by
    customers.services.calls.call_log."""

    contact = models.ForeignKey(Contact, verbose_name=_("contact"), on_delete=models.CASCADE,
                                related_name="calls")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("called by"), null=True,
                             on_delete=models.SET_NULL, related_name="calls")
    outcome = models.CharField(_("outcome"), max_length=20, choices=CallOutcome.choices)
    note = models.TextField(_("note"), max_length=4000, blank=True)
    called_at = models.DateTimeField(_("called at"), default=timezone.now)

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        ordering = ["-called_at", "-id"]
        indexes = [
            # The contact page's calls and the call list's "called recently" check.
            models.Index(fields=["contact", "-called_at"], name="call_contact_idx"),
            # The home page's "calls this week".
            models.Index(fields=["user", "called_at"], name="call_user_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} ({self.called_at:%Y-%m-%d %H:%M})"


class ImportJob(models.Model):
    """One CSV upload from the dashboard: preview (a dry run), then the import, as Celery tasks.

    The uploaded file lives under CRM_IMPORT_DIR (never served) until the job ends; the report
    of rejected rows stays until import_jobs_purge removes old jobs' files.
    """

    class Kind(models.TextChoices):
        CONTACTS = "contacts", _("Contacts")
        PURCHASES = "purchases", _("Purchases")

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        PREVIEWING = "previewing", _("Checking")
        PREVIEWED = "previewed", _("Previewed")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    original_name = models.CharField(_("file name"), max_length=255)
    upload_path = models.CharField(_("stored upload"), max_length=500, blank=True)
    # Purchases only: the orders' lines as a file of their own (customers.imports.order_lines).
    lines_name = models.CharField(_("lines file name"), max_length=255, blank=True, default="")
    lines_path = models.CharField(_("stored lines file"), max_length=500, blank=True,
                                  default="")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), null=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices,
                              default=Status.UPLOADED)
    source = models.CharField(_("source"), max_length=32, default="csv")
    skip_invalid = models.BooleanField(_("import valid rows when some rows have errors"),
                                       default=True)
    # Purchases only: the past is being loaded (customers.imports.purchases: historical).
    # Purchases only: how dates like 05.12.2026 are read (customers.imports.dates).
    date_order = models.CharField(_("date order"), max_length=16, default="auto",
                                  db_default="auto")
    historical = models.BooleanField(
        _("historical load"), default=False,
        help_text=_("Record the purchases, redeemed codes and scores without announcing "
                    "anything: no event campaigns, webhooks or referral rewards."))
    size_bytes = models.BigIntegerField(_("size in bytes"), default=0)
    bytes_read = models.BigIntegerField(_("bytes read"), default=0)
    rows_read = models.PositiveIntegerField(_("rows read"), default=0)
    count_created = models.PositiveIntegerField(_("created"), default=0)
    count_updated = models.PositiveIntegerField(_("updated"), default=0)
    count_unchanged = models.PositiveIntegerField(_("unchanged or already recorded"), default=0)
    count_duplicates = models.PositiveIntegerField(_("duplicate rows"), default=0)
    count_rejected = models.PositiveIntegerField(_("rejected rows"), default=0)
    contacts_created = models.PositiveIntegerField(_("new contacts"), default=0)
    # The dry run: first rows, column mapping, counts, first errors (customers.imports.jobs).
    preview = models.JSONField(_("preview"), default=dict, blank=True)
    report_path = models.CharField(_("rejected rows report"), max_length=500, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.original_name}"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
