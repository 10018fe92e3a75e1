"""The nightly product figures (customers.bought.pairs): the SQL gives what the plain
reference (customers.bought.stats) computes by hand, refunds left out, on SQLite and on
PostgreSQL."""
import random
from decimal import Decimal

import pytest

from customers.bought.pairs import product_pairs_refresh, product_reorder_refresh
from customers.bought.stats import pairs_from_baskets
from customers.models import Product, ProductPair, ProductReorder
from customers.services.refunds import purchase_refund
from customers.tests.bought import buy
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def dollars(settings):
    settings.CRM_BASE_CURRENCY = "USD"
    settings.CRM_COOCCURRENCE_MIN_SUPPORT = 3
    settings.CRM_COOCCURRENCE_PER_PRODUCT = 20
    settings.CRM_REORDER_MIN_CONTACTS = 3


def _stored() -> list[tuple]:
    return [(p.product_id, p.other_id, p.contacts, round(p.confidence, 9), round(p.lift, 9))
            for p in ProductPair.objects.order_by("product_id", "-lift", "-contacts", "other_id")]


def _pid(sku: str) -> int:
    return Product.objects.get(sku=sku).pk


def test_pairs_by_hand_contact_level():
    # TEA and HONEY bought by the same three contacts, in separate purchases for one of them.
    for _ in range(2):
        buy(ContactFactory(), "TEA", "HONEY")
    both = ContactFactory()
    buy(both, "TEA", days_ago=30)
    buy(both, "HONEY")
    buy(ContactFactory(), "TEA", "POT")  # 4 TEA buyers, 1 POT buyer: below support

    assert product_pairs_refresh() == 2
    tea, honey = _pid("TEA"), _pid("HONEY")
    # N = 4 contacts; TEA 4, HONEY 3, both 3: conf TEA->HONEY 3/4, HONEY->TEA 1; lift 3*4/12.
    assert _stored() == [(tea, honey, 3, 0.75, 1.0), (honey, tea, 3, 1.0, 1.0)] if tea < honey \
        else [(honey, tea, 3, 1.0, 1.0), (tea, honey, 3, 0.75, 1.0)]


def test_refunded_purchases_and_lines_do_not_count():
    for _ in range(3):
        buy(ContactFactory(), "TEA", "HONEY")
    refunded = buy(ContactFactory(), "TEA", "POT")
    partly = buy(ContactFactory(), "TEA", "POT", "CUP")
    other = buy(ContactFactory(), "TEA", "POT")
    buy(ContactFactory(), "TEA", "POT")
    purchase_refund(purchase=refunded)
    pot_line = partly.lines.get(product__sku="POT")
    purchase_refund(purchase=partly, lines={pot_line.pk: Decimal(1)})
    assert other.lines.count() == 2

    product_pairs_refresh()

    # TEA-POT: 2 contacts count (the refunded purchase and the refunded line do not).
    pot = _pid("POT")
    assert not ProductPair.objects.filter(product_id=pot).exists()
    assert ProductPair.objects.filter(product_id=_pid("HONEY"), other_id=_pid("TEA")).exists()


def test_a_second_run_replaces_the_first():
    for _ in range(3):
        buy(ContactFactory(), "TEA", "HONEY")
    product_pairs_refresh()
    first = _stored()

    assert product_pairs_refresh() == 2 and _stored() == first


def _random_shop(seed: int) -> dict[int, set[int]]:
    rng = random.Random(seed)
    skus = [f"P{i}" for i in range(12)]
    baskets: dict[int, set[str]] = {}
    for _ in range(40):
        contact = ContactFactory()
        bought = set()
        for days in range(rng.randint(1, 3)):
            pool = skus[:rng.randint(2, 12)]
            chosen = rng.sample(pool, rng.randint(1, min(4, len(pool))))
            buy(contact, *chosen, days_ago=days * 7)
            bought |= set(chosen)
        baskets[contact.pk] = bought
    ids = dict(Product.objects.values_list("sku", "pk"))
    return {contact: {ids[sku] for sku in skus_} for contact, skus_ in baskets.items()}


def _matches_the_reference(seed: int, settings) -> None:
    settings.CRM_COOCCURRENCE_PER_PRODUCT = 4
    baskets = _random_shop(seed)

    product_pairs_refresh()

    expected = [(s.product, s.other, s.contacts, round(s.confidence, 9), round(s.lift, 9))
                for s in pairs_from_baskets(baskets, min_support=3, per_product=4)]
    assert expected and _stored() == expected


def test_the_sql_gives_what_the_reference_computes(settings):
    _matches_the_reference(7, settings)


@pytest.mark.postgres
def test_the_sql_gives_what_the_reference_computes_on_postgresql(settings):
    _matches_the_reference(11, settings)


def _reorder_intervals() -> dict[str, tuple[int, int]]:
    return {row.product.sku: (row.median_days, row.contacts)
            for row in ProductReorder.objects.select_related("product")}


def _reorders(gaps_per_contact: list[list[int]], sku: str = "TEA") -> None:
    for gaps in gaps_per_contact:
        contact, ago = ContactFactory(), sum(gaps) + 1
        buy(contact, sku, days_ago=ago)
        for gap in gaps:
            ago -= gap
            buy(contact, sku, days_ago=ago)


def test_a_products_interval_is_the_median_of_its_reorderers_medians():
    _reorders([[10, 10, 10, 10], [30], [40, 50]])  # own medians 10, 30, 45 -> 30
    buy(ContactFactory(), "TEA")  # bought once: no interval of their own, not counted
    _reorders([[20], [20]], sku="HONEY")  # two contacts: below the minimum

    assert product_reorder_refresh() == 1
    assert _reorder_intervals() == {"TEA": (30, 3)}


def test_refunded_purchases_do_not_make_intervals():
    _reorders([[30], [30]])
    contact = ContactFactory()
    buy(contact, "TEA", days_ago=40)
    purchase_refund(purchase=buy(contact, "TEA", days_ago=10))

    assert product_reorder_refresh() == 0


@pytest.mark.postgres
def test_intervals_on_postgresql():
    _reorders([[7, 7], [14], [21, 35]])  # 7, 14, 28 -> 14

    assert product_reorder_refresh() == 1
    assert _reorder_intervals() == {"TEA": (14, 3)}
