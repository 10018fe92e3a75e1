"""Issue #20 point 4: the covariate model may use the categories of a contact's first order
(the shop's top CRM_SCORING_FIRST_ORDER_CATEGORIES, one indicator each); training and scoring
build the same columns, and a shop without order lines scores exactly as before."""
import datetime as dt

import numpy as np
import pytest
from django.utils import timezone

from django.db.models import Count, F

from customers.imports.purchases import purchases_import_rows
from customers.models import ContactScore, Product, Purchase, PurchaseLine, ScoringRun
from customers.normalise import shop_day
from customers.scoring import report
from customers.scoring.features import (
    attribute_source, attributes_at, category_code, first_order_top_categories,
    model_categories,
)
from customers.scoring.model import pipeline
from customers.scoring.runs import scoring_run_execute, scoring_run_start
from customers.scoring.store import day_index, day_rows
from customers.tests.scoring_data import load_cdnow_sample

pytestmark = pytest.mark.django_db

COFFEE, GIFTS = category_code("Coffee"), category_code("Gifts")


def _shop(*, contacts: int = 300, lines: bool = True, seed: int = 7) -> dt.date:
    """CDNOW's first buyers (real purchase timing), history ending yesterday. With lines, each
    first order holds one product: coffee mostly for those who come back later, gifts mostly
    for those who never do, tea for anyone (it says nothing)."""
    as_of = shop_day(timezone.now()) - dt.timedelta(days=1)
    load_cdnow_sample(last_day=as_of, customers=contacts)
    if not lines:
        return as_of
    rng = np.random.default_rng(seed)
    products = {name: Product.objects.create(sku=name, name=f"{name} pack", category=name)
                for name in ("Coffee", "Gifts", "Tea")}
    firsts = (Purchase.objects.filter(contact__first_purchase_at=F("purchased_at"))
              .annotate(orders=Count("contact__purchases")).order_by("contact_id", "id"))
    rows, seen = [], set()
    for purchase in firsts:
        if purchase.contact_id in seen:
            continue
        seen.add(purchase.contact_id)
        returns = purchase.orders > 1
        draw = rng.random()
        name = ("Tea" if draw < 0.2 else
                ("Coffee" if returns else "Gifts") if draw < 0.85 else
                ("Gifts" if returns else "Coffee"))
        rows.append(PurchaseLine(purchase=purchase, product=products[name], quantity=1,
                                 unit_price=purchase.amount, total=purchase.amount,
                                 total_base=purchase.amount_base))
    PurchaseLine.objects.bulk_create(rows)
    return as_of


def _categories(attributes) -> list[str]:
    return sorted(name for name in attributes.numeric if name.startswith("first_category:"))


def _fit(as_of: dt.date) -> pipeline.FitResult:
    return pipeline.fit(day_rows(as_of=as_of), as_of_day=day_index(as_of), horizon_days=90,
                        attributes=attribute_source(as_of=as_of))


def test_the_first_orders_top_categories_are_indicators(settings):
    as_of = _shop(contacts=30)
    contacts = Purchase.objects.values("contact_id").distinct().count()
    settings.CRM_SCORING_FIRST_ORDER_CATEGORIES = 2

    top = first_order_top_categories(as_of=as_of)
    attributes = attributes_at(as_of)

    assert len(top) == 2 and set(top) <= {COFFEE, GIFTS, category_code("Tea")}
    assert _categories(attributes) == sorted(f"first_category:{code}" for code in top)
    column = attributes.numeric[f"first_category:{top[0]}"]
    assert set(column.tolist()) == {0.0, 1.0} and len(column) == contacts
    settings.CRM_SCORING_FIRST_ORDER_CATEGORIES = 0
    assert not _categories(attributes_at(as_of))


def test_a_first_order_without_lines_gets_no_category(settings):
    as_of = _shop(contacts=6)
    purchases_import_rows(rows=[{"email": "plain@example.com", "amount": "5.00",
                                 "purchased_at": f"{as_of}T10:00:00Z", "currency": "USD"}],
                          source="shop")
    from customers.models import Contact

    plain = Contact.objects.get(email="plain@example.com").pk

    attributes = attributes_at(as_of).take([plain])

    assert _categories(attributes) and all(np.isnan(attributes.numeric[name][0])
                                           for name in _categories(attributes))


def test_a_category_that_predicts_a_return_gets_weight():
    as_of = _shop()

    fitted = _fit(as_of).fitted

    assert fitted is not None
    model = fitted.state.covariate
    assert set(model_categories(model.features)) >= {COFFEE, GIFTS}
    weight = dict(zip(model.features, model.coef, strict=True))
    coffee = weight[f"num:first_category:{COFFEE}"] + weight.get(
        f"one_time*num:first_category:{COFFEE}", 0)
    gifts = weight[f"num:first_category:{GIFTS}"] + weight.get(
        f"one_time*num:first_category:{GIFTS}", 0)
    assert coffee > 0.1 and coffee > gifts + 0.2, (coffee, gifts)


def test_scoring_reads_the_categories_the_model_was_trained_on(settings):
    """A run trains on the top categories of its day; scoring later, when the shop's top
    categories have changed, still builds the model's own columns."""
    as_of = _shop()
    run = scoring_run_start(trigger=ScoringRun.Trigger.COMMAND)
    scoring_run_execute(run.pk, parallel=False)
    run.refresh_from_db()
    features = pipeline.FittedModels.from_json(run.fitted).state.covariate.features
    trained = model_categories(features)
    assert trained
    settings.CRM_SCORING_FIRST_ORDER_CATEGORIES = 0  # the shop's top list is now empty

    from customers.scoring.runs import _attributes

    fitted = pipeline.FittedModels.from_json(run.fitted)
    if "covariate" in (fitted.model_for(True), fitted.model_for(False)):
        attributes = _attributes(fitted, as_of, [1, 2, 3])
        assert {f"first_category:{code}" for code in trained} <= set(attributes.numeric)
    score = ContactScore.objects.filter(run=run).select_related("run", "contact").first()
    assert score is not None
    report.covariate_words(score)  # words read the model's own categories too


def test_a_shop_without_lines_scores_exactly_as_before(settings):
    as_of = _shop(contacts=300, lines=False)
    settings.CRM_SCORING_FIRST_ORDER_CATEGORIES = 10
    with_setting = _fit(as_of)
    settings.CRM_SCORING_FIRST_ORDER_CATEGORIES = 0
    without = _fit(as_of)

    assert first_order_top_categories(as_of=as_of) == ()
    assert with_setting.fitted is not None
    assert with_setting.fitted.to_json() == without.fitted.to_json()
    assert not any("first_category" in name
                   for name in with_setting.fitted.state.covariate.features)


def test_the_drivers_words_name_the_category():
    from customers.services.purchases import purchase_record
    from customers.tests.factories import ContactFactory

    first = purchase_record(
        contact=ContactFactory(), purchased_at=timezone.now() - dt.timedelta(days=3),
        amount=None, currency="USD", lines=[{"sku": "C-1", "name": "Coffee pack",
                                             "category": "Coffee", "quantity": "1",
                                             "unit_price": "5.00"}]).purchase

    def words(value):
        return report._covariate_text(
            "attribute", {"name": f"first_category:{COFFEE}", "value": value}, first)

    assert words(1.0) == "first order included Coffee"
    assert words(0.0) == "no Coffee in the first order"
    assert words(None) is None
