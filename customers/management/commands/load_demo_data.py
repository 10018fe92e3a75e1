import json
import secrets

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db.models import F
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import MANAGERS, SALES_STAFF
from customers.consent.models import ConsentMethod
from customers.consent.services import consent_records_bulk
from customers.demo import DEMO_SOURCE, cdnow_rows
from customers.imports.purchases import purchases_import_rows
from customers.models import Contact
from customers.services.contacts import contacts_assign_owner

DEMO_USERS = [
    ("manager", "Maria", "Manager", MANAGERS),
    ("sales", "Sam", "Seller", SALES_STAFF),
    ("sales2", "Selin", "Satış", SALES_STAFF),
]
LOGINS_FILE = settings.VAR_DIR / "demo_logins.json"


class Command(BaseCommand):
    help = _("Load the demo: CDNOW purchase histories as contacts, plus demo logins. "
             "Safe to run again: nothing is duplicated.")

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true",
                            help=_("Load even when DEBUG is off (never on a real database)."))

    def handle(self, *args, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError(_("Refusing to load demo data with DEBUG off; use --force."))
        logins = self._users()
        # Past orders: recorded and scored, but no event campaign or webhook fires for them.
        result = purchases_import_rows(rows=cdnow_rows(), source=DEMO_SOURCE, historical=True)
        if not result.imported:
            reasons = "; ".join(f"{line}: {', '.join(why)}" for line, _email, why in result.errors[:5])
            raise CommandError(_("The demo data did not import: %(reasons)s") % {"reasons": reasons})
        self._spread_owners_and_consent()
        self.stdout.write(_("Demo data: %(new)d new purchases, %(known)d already there, "
                            "%(contacts)d contacts in all.") % {
            "new": result.purchases_created, "known": result.purchases_existing,
            "contacts": Contact.objects.count()})
        LOGINS_FILE.write_text(json.dumps(logins, indent=2))
        LOGINS_FILE.chmod(0o600)

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

    def _spread_owners_and_consent(self) -> None:
        """Give each sales user a share of the unowned demo contacts; most agreed to email."""
        sellers = list(User.objects.filter(groups__name=SALES_STAFF).order_by("username"))
        unowned = Contact.objects.filter(owner__isnull=True, email__endswith="@example.com")
        for index, seller in enumerate(sellers):
            share = unowned.alias(slot=F("id") % len(sellers)).filter(slot=index)
            contacts_assign_owner(contacts=share, owner=seller)
        agreeing = Contact.objects.filter(
            consent_changed_at__isnull=True, email__endswith="@example.com").alias(
            slot=F("id") % 10).filter(slot__lt=7)
        # Through the ledger, as a real import would: each has the wording they agreed to.
        consent_records_bulk(agreeing, given=True, method=ConsentMethod.CSV_IMPORT,
                             source="demo")
