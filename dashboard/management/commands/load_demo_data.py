"""`make demo`'s loader: the living shop of customers.demo written through each app's services
(purchases and contacts imports, refunds, support cases, survey invitations and answers), plus
the demo logins. It lives on top, in dashboard, because it seeds every feature app."""
import csv
import datetime as dt
import io
import json
import random
import secrets

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import MANAGERS, SALES_STAFF
from crm.shop import FIELDS as SHOP_FIELDS
from crm.shop import shop, shop_settings_save
from campaigns.campaign_service import campaign_update
from customers.demo import DEMO_NEW_PER_WEEK, DEMO_SOURCE, DemoShop, demo_shop
from customers.imports.contacts import contacts_import_csv
from customers.imports.purchases import purchases_import_rows
from customers.followups import follow_up_set_done
from customers.models import Contact, FollowUp, Purchase
from customers.services.follow_up_reminders import follow_up_reminders_claim
from customers.normalise import shop_timezone
from customers.services.contacts import contacts_assign_owner
from customers.services.refunds import purchase_refund
from feedback.models import SurveyInvite
from feedback.services import survey_answer, survey_campaign, surveys_queue
from support.models import Case, Priority
from support.services import case_open, case_reply, case_set_status

DEMO_USERS = [
    ("manager", "Maria", "Manager", MANAGERS),
    ("sales", "Sam", "Seller", SALES_STAFF),
    ("sales2", "Selin", "Satış", SALES_STAFF),
]
LOGINS_FILE = settings.VAR_DIR / "demo_logins.json"


class Command(BaseCommand):
    help = _("Load the demo: a shop's purchase history up to yesterday, with phones, consent, "
             "refunds, support cases and survey answers, plus demo logins. "
             "Safe to run again: nothing is duplicated.")

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true",
                            help=_("Load even when DEBUG is off (never on a real database)."))
        parser.add_argument("--size", type=int, default=DEMO_NEW_PER_WEEK, metavar="N",
                            help=_("New first-time buyers a week (a smaller shop loads faster)."))

    def handle(self, *args, force: bool, size: int = DEMO_NEW_PER_WEEK, **options):
        if not settings.DEBUG and not force:
            raise CommandError(_("Refusing to load demo data with DEBUG off; use --force."))
        if size < 1:
            raise CommandError(_("--size must be at least 1."))
        logins = self._users()
        self._shop_settings()
        today = timezone.localdate()
        shop = demo_shop(today=today, new_per_week=size)
        # Past orders: recorded and scored, but no event campaign or webhook fires for them.
        result = purchases_import_rows(rows=shop.purchases, source=DEMO_SOURCE, historical=True)
        if not result.imported:
            reasons = "; ".join(f"{line}: {', '.join(why)}" for line, _email, why in result.errors[:5])
            raise CommandError(_("The demo data did not import: %(reasons)s") % {"reasons": reasons})
        self._contact_details(shop)
        self._spread_owners()
        self._refunds(shop)
        self._cases(shop, today)
        self._surveys(today)
        self.stdout.write(_("Demo data: %(new)d new purchases, %(known)d already there, "
                            "%(contacts)d contacts in all.") % {
            "new": result.purchases_created, "known": result.purchases_existing,
            "contacts": Contact.objects.count()})
        LOGINS_FILE.write_text(json.dumps(logins, indent=2))
        LOGINS_FILE.chmod(0o600)

    def _shop_settings(self) -> None:
        """The demo shop's settings saved once, as they stand (the environment's or the
        defaults), so the demo manager lands on the call list, not the first-run page."""
        current = shop()
        if current.saved:
            return
        values = {field: getattr(current, field) for field in SHOP_FIELDS}
        shop_settings_save(values={**values, "name": current.name or _("Demo shop")})

    def _users(self) -> dict[str, str]:
        known = json.loads(LOGINS_FILE.read_text()) if LOGINS_FILE.exists() else {}
        for username, first, last, role in DEMO_USERS:
            # An address (reserved example.com domain) so "Send a test" has somewhere to go.
            email = f"{username}@example.com"
            user, created = User.objects.get_or_create(
                username=username, defaults={"first_name": first, "last_name": last,
                                             "email": email, "is_staff": role == MANAGERS})
            if not user.email:  # a demo loaded before users had addresses
                User.objects.filter(pk=user.pk).update(email=email)
                user.email = email
            if created or username not in known:
                known[username] = secrets.token_urlsafe(9)
                user.set_password(known[username])
                user.save()
            user.groups.add(Group.objects.get(name=role))
        return known

    def _contact_details(self, shop: DemoShop) -> None:
        """Phones, languages and consent through the contacts import, as a shop's own file
        would bring them: consent given or refused goes through the consent ledger, each
        with the wording of the contact's language."""
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(["email", "phone", "language", "marketing_consent"])
        writer.writerows([contact.email, contact.phone, contact.language, contact.consent]
                         for contact in shop.contacts)
        text.seek(0)
        result = contacts_import_csv(file=text, source=DEMO_SOURCE)
        if not result.imported:
            reasons = "; ".join(f"{line}: {', '.join(why)}" for line, _email, why in result.errors[:5])
            raise CommandError(_("The demo data did not import: %(reasons)s") % {"reasons": reasons})

    def _spread_owners(self) -> None:
        """Give each sales user a share of the unowned demo contacts."""
        sellers = list(User.objects.filter(groups__name=SALES_STAFF).order_by("username"))
        unowned = Contact.objects.filter(owner__isnull=True, email__endswith="@example.com")
        for index, seller in enumerate(sellers):
            share = unowned.alias(slot=F("id") % len(sellers)).filter(slot=index)
            contacts_assign_owner(contacts=share, owner=seller)

    def _refunds(self, shop: DemoShop) -> None:
        """A few orders came back, a few weeks after they were bought."""
        purchases = Purchase.objects.filter(source=DEMO_SOURCE, external_id__in=shop.refunds,
                                            refunded_at__isnull=True)
        with transaction.atomic():  # one commit: the re-scoring after it is one batch
            for purchase in purchases:
                purchase_refund(purchase=purchase,
                                refunded_at=min(purchase.purchased_at + dt.timedelta(days=12),
                                                timezone.now()))

    def _cases(self, shop: DemoShop, today: dt.date) -> None:
        """A few support cases of the last weeks, some solved, some still open."""
        rng = random.Random(len(shop.contacts))
        by_email = {contact.email: contact for contact in shop.contacts}
        recent = list(Contact.objects.filter(
            email__in=list(by_email), last_purchase_at__date__gte=today - dt.timedelta(days=60))
            .order_by("pk")[:400])
        statuses = [Case.Status.NEW, Case.Status.OPEN, Case.Status.WAITING, Case.Status.SOLVED]
        for index, contact in enumerate(rng.sample(recent, min(12, len(recent)))):
            if contact.cases.exists():  # loaded before
                continue
            details = by_email[contact.email]
            subject, description = _CASE_TEXTS[details.language][index % 4]
            opened = dt.datetime.combine(today - dt.timedelta(days=rng.randrange(1, 21)),
                                         dt.time(10 + index % 8), tzinfo=shop_timezone())
            case = case_open(contact=contact, subject=subject,
                             description=description % {"city": details.city},
                             channel=rng.choice(Case.Channel.values),
                             priority=rng.choice([Priority.HIGH, Priority.NORMAL, Priority.LOW]),
                             owner=contact.owner, now=opened)
            status = statuses[index % len(statuses)]
            if status == Case.Status.NEW:
                continue
            # Answered within the day, as the shop does; emailed back then, not again now.
            case_reply(case=case, author=contact.owner, body=_CASE_REPLIES[details.language],
                       now=opened + dt.timedelta(hours=2), historical=True)
            if status != Case.Status.WAITING:
                case_set_status(case=case, status=status, now=opened + dt.timedelta(hours=5))

    def _surveys(self, today: dt.date) -> None:
        """The satisfaction survey, on: invitations on a few past days, most answered."""
        campaign = survey_campaign()
        if campaign is None:
            return
        if not campaign.is_active:
            campaign_update(campaign, is_active=True)
        tz = shop_timezone()
        for days_ago in (170, 140, 110, 80, 50, 25, 9):
            # Emailed back then, not now: a demo's first start emails nobody.
            surveys_queue(now=dt.datetime.combine(today - dt.timedelta(days=days_ago),
                                                  dt.time(10), tzinfo=tz), historical=True)
        rng = random.Random(7)
        invites = SurveyInvite.objects.filter(response__isnull=True).select_related("contact")
        for invite in invites.order_by("pk"):
            if rng.random() < 0.35:  # not everyone answers
                continue
            score = rng.choices(range(11), weights=[1, 1, 1, 1, 2, 2, 4, 8, 14, 18, 16])[0]
            comments = _SURVEY_COMMENTS[invite.contact.language or "en"]
            survey_answer(invite=invite, score=score, language=invite.contact.language,
                          comment=rng.choice(comments[score >= 9]) if rng.random() < 0.4 else "",
                          now=invite.created_at + dt.timedelta(hours=rng.randrange(2, 72)))
        self._past_call_backs(today)

    def _past_call_backs(self, today: dt.date) -> None:
        """Unhappy answers gave their owners call-backs (feedback.services): those of past
        weeks were made, the last week's are still open, and none is reminded again now (the
        reminders went out back then)."""
        for follow_up in FollowUp.objects.filter(done_at__isnull=True,
                                                 due_on__lt=today - dt.timedelta(days=7)):
            follow_up_set_done(follow_up=follow_up, done=True)
        follow_up_reminders_claim(now=timezone.now(), limit=100_000)


# Demo content in the two flavours; it is data, like the names, so not translated.
_CASE_REPLIES = {
    "tr": "Merhaba, yazdığınız için teşekkürler. Hemen kontrol ediyoruz ve bugün size dönüş "
          "yapacağız.",
    "en": "Hello, thank you for writing. We are looking into it now and will get back to you "
          "today.",
}
_CASE_TEXTS = {
    "tr": [("Kargo gecikti", "Siparişim %(city)s adresine hâlâ ulaşmadı."),
           ("Yanlış beden geldi", "Değişim için ne yapmam gerekiyor? (%(city)s)"),
           ("Fatura talebi", "Kurumsal fatura rica ediyorum, %(city)s şubesi."),
           ("Kupon çalışmadı", "HOSGELDIN10 kodu sepette kabul edilmedi.")],
    "en": [("Parcel is late", "My order to %(city)s has not arrived yet."),
           ("Wrong size delivered", "How do I exchange it? (%(city)s)"),
           ("Invoice needed", "Could I have a VAT invoice for the %(city)s office?"),
           ("Coupon did not work", "WELCOME10 was refused at checkout.")],
}
_SURVEY_COMMENTS = {
    "tr": {False: ["Kargo çok geç geldi.", "Ürün açıklamadakinden farklıydı."],
           True: ["Çok memnun kaldım, teşekkürler!", "Hızlı teslimat, tekrar alırım."]},
    "en": {False: ["Delivery took far too long.", "Not quite what the photos showed."],
           True: ["Lovely service, thank you!", "Fast delivery, will order again."]},
}
