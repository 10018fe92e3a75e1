"""The benchmark data tools produce what the import and later benchmarks rely on."""
import numpy as np
import pytest

from bench.generate import load, purchase_days, write_import_csv
from customers.imports.purchases import purchases_import_csv
from customers.models import Contact, Purchase, Stage
from customers.stats import contacts_with_drift


def test_purchase_days_sum_exactly_and_have_many_one_time_buyers():
    counts = purchase_days(np.random.default_rng(3), 10_000, 40_000)

    assert counts.sum() == 40_000
    assert counts.min() == 1
    assert 0.2 < (counts == 1).mean() < 0.6
    assert counts.max() > 40  # a long tail of repeat clients


@pytest.mark.django_db
def test_import_csv_is_valid_and_imports_completely(tmp_path):
    path = tmp_path / "bench.csv"
    write_import_csv(path, rows=600, seed=5)

    result = purchases_import_csv(file=path)

    assert (result.rows_invalid, result.purchases_created, result.rows_duplicate) == (0, 600, 0)
    assert Contact.objects.count() == 200
    assert list(contacts_with_drift()) == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_load_creates_contacts_and_purchases_with_exact_figures():
    kept = Contact.objects.create(email="kept@example.com")

    load(contacts=1_000, purchases=5_000, truncate=False, seed=2, log=lambda message: None)

    assert Contact.objects.count() == 1_001
    assert Purchase.objects.count() == 5_000
    assert set(Contact.objects.values_list("stage", flat=True)) == {
        Stage.PROSPECT, Stage.ONE_TIME, Stage.REPEAT}
    assert list(contacts_with_drift()) == []
    assert Contact.objects.filter(pk=kept.pk, email="kept@example.com").exists()
    # Loaded contacts take the next ids, and the id sequence continues after them.
    assert Contact.objects.exclude(pk=kept.pk).order_by("pk").first().pk == kept.pk + 1
    assert Contact.objects.create(email="after@example.com").pk == kept.pk + 1_001
