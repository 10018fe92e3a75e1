"""The scoring explanation reads right in Turkish: "%43", and money as money."""
from decimal import Decimal
from types import SimpleNamespace

from django.utils import translation

from customers.scoring import report


def test_a_turkish_explanation_writes_percent_first_and_money_in_turkish(settings,
                                                                         monkeypatch):
    settings.CRM_BASE_CURRENCY = "TRY"
    monkeypatch.setattr("customers.scoring.model.pipeline.explain",
                        lambda *args: [("first_order_value", {"amount": 1250.0})])
    score = SimpleNamespace(frequency=0, recency_days=30, age_days=30,
                            p_buy_again=Decimal("0.43"))
    with translation.override("tr"):
        text = report.explanation(score)
    with translation.override("en"):
        english = report.explanation(score)

    assert "%43" in text and "43%" not in text
    assert "1.250,00" in text and "1250.00" not in text
    assert english == "43% likely to buy again: first order worth TRY1,250.00."
