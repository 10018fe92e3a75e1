"""Scoring results in words: run summaries, backtest tables, calibration charts, explanations.

The pure scoring modules return codes and numbers; everything people read is worded here,
translatable.
"""
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.translation import ngettext

from crm.numbers import percent

from ..models import ContactScore, Product, Purchase, ScoringRun
from ..money import base_currency
from ..templatetags.money import money

if TYPE_CHECKING:
    from .model.pipeline import ModelReport

MODEL_LABELS = {
    "bgnbd": gettext_lazy("BG/NBD"),
    "paretonbd": gettext_lazy("Pareto/NBD"),
    "covariate": gettext_lazy("Covariate model"),
}
VERDICTS = {
    "too_few_buyers": gettext_lazy("Not enough data yet: too few buyers to fit a model."),
    "too_short_history": gettext_lazy(
        "Not enough data yet: the purchase history is too short to fit a model."),
    "no_purchases": gettext_lazy("Not enough data yet: there are no purchases."),
    "not_backtested": gettext_lazy(
        "Not backtested yet: the purchase history is too short for a complete backtest window, "
        "so the scores come from a purchase model fitted on all of it, without a backtest."),
}
NOT_BACKTESTED_MODEL = {
    "bgnbd": gettext_lazy(
        "BG/NBD is used: the simpler of the two purchase models; without a backtest nothing "
        "shows that Pareto/NBD would do better. The covariate model is only used once it has "
        "won a backtest."),
    "paretonbd": gettext_lazy(
        "Pareto/NBD is used: BG/NBD did not converge on this history. The covariate model is "
        "only used once it has won a backtest."),
}
# Chart colours per model, also used in the legend.
_COLOURS = {"bgnbd": "#0d6efd", "paretonbd": "#6f42c1", "covariate": "#198754"}


def model_label(name: str) -> str:
    return str(MODEL_LABELS.get(name, name))


def _percent(value: float | None) -> str:
    return "–" if value is None else percent(value)


def _number(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


@dataclass(frozen=True, slots=True)
class BacktestRow:
    """One model's line of the backtest table (None: the figure is not there)."""

    name: str
    label: str
    chosen: bool
    converged: bool | None
    auc: float | None
    auc_one_time: float | None
    brier: float | None
    predicted_buyers: float | None
    actual_buyers: int | None
    predicted_purchases: float | None
    actual_purchases: int | None
    log_likelihood: float | None
    note: str = ""  # why a model that converged is not used, when there is a reason to give


BELOW_CHANCE_NOTE = gettext_lazy("not used: ranked worse than chance, AUC below 0.5")
def _reports(run: ScoringRun) -> "list[ModelReport]":
    from .model.pipeline import ModelReport  # numpy and scipy: loaded on use, as below

    return [ModelReport.from_json(report) for report in run.reports]


def backtest_rows(run: ScoringRun) -> list[BacktestRow]:
    """One row per model with its backtest figures, the chosen model first."""
    rows = []
    for report in _reports(run):
        metrics = report.metrics
        rows.append(BacktestRow(
            name=report.name, label=model_label(report.name),
            chosen=report.name == run.chosen_model, converged=report.converged,
            auc=metrics.auc, auc_one_time=metrics.auc_one_time,
            brier=metrics.brier,
            predicted_buyers=metrics.predicted_buyers,
            actual_buyers=metrics.actual_buyers,
            predicted_purchases=metrics.predicted_purchases,
            actual_purchases=metrics.actual_purchases,
            log_likelihood=report.log_likelihood,
            note=str(BELOW_CHANCE_NOTE) if report.reason == "auc_below_chance" else "",
        ))
    return sorted(rows, key=lambda row: not row.chosen)


def verdict_notes(run: ScoringRun) -> list[str]:
    """For a run without a backtest: which model was used and why, what history a backtest
    (or, with too little, any score) needs."""
    from .model import pipeline

    counts = run.counts or {}
    notes = []
    if run.verdict == "not_backtested" and run.chosen_model in NOT_BACKTESTED_MODEL:
        notes.append(str(NOT_BACKTESTED_MODEL[run.chosen_model]))
    if run.verdict == "too_short_history" and "history_days" in counts:
        notes.append(_("Scores need at least %(days)d days of purchases and %(buyers)d contacts "
                       "who bought on a second day.") % {
            "days": pipeline.MIN_FIT_HISTORY_DAYS, "buyers": pipeline.MIN_REPEAT_BUYERS})
    needs = counts.get("backtest_needs_days")
    if run.verdict in ("not_backtested", "too_short_history") and needs:
        notes.append(ngettext(
            "A backtest needs %(days)d more day of purchases: at least %(minimum)d days of "
            "history, and %(buyers)d customers who first bought more than the horizon "
            "(%(horizon)d days) before the scoring day; the history covers %(history)d days.",
            "A backtest needs %(days)d more days of purchases: at least %(minimum)d days of "
            "history, and %(buyers)d customers who first bought more than the horizon "
            "(%(horizon)d days) before the scoring day; the history covers %(history)d days.",
            needs) % {"days": needs, "horizon": run.horizon_days,
                      "minimum": pipeline.MIN_HISTORY_DAYS, "buyers": pipeline.MIN_BUYERS,
                      "history": counts["history_days"]})
    return notes


def _fitted_lines(run: ScoringRun) -> list[str]:
    """A run without a backtest: each purchase model's parameters (days as the time unit)."""
    if run.verdict != "not_backtested":
        return []
    lines = []
    for report in _reports(run):
        params = ", ".join(f"{name} {report.params[name]:.4g}"
                           for name in ("r", "alpha", "a", "b", "s", "beta")
                           if isinstance(report.params.get(name), float))
        lines.append(_("  %(model)s%(chosen)s: fitted on all the history, not backtested; "
                       "%(params)s, log-likelihood %(ll)s") % {
            "model": model_label(report.name),
            "chosen": _(" (used)") if report.name == run.chosen_model else "",
            "params": params, "ll": _number(report.log_likelihood, 2)})
    return lines


def report_lines(run: ScoringRun) -> list[str]:
    """The run as plain text, for the command line and logs."""
    lines = [_("Scoring run %(id)s: %(status)s (as of %(as_of)s, horizon %(days)d days).") % {
        "id": run.pk, "status": run.get_status_display(), "as_of": run.as_of,
        "days": run.horizon_days}]
    if run.verdict in VERDICTS:
        lines.append(str(VERDICTS[run.verdict]))
    lines.extend(verdict_notes(run))
    if run.error:
        lines.append(_("Error: %(error)s") % {"error": run.error})
    lines.extend(_fitted_lines(run))
    for row in backtest_rows(run) if run.verdict != "not_backtested" else ():
        lines.append(_("  %(model)s%(chosen)s: AUC %(auc)s, AUC one-time buyers %(auc1)s, "
                       "Brier %(brier)s, buyers predicted %(pb)s / actual %(ab)s") % {
            "model": row.label, "chosen": _(" (used)") if row.chosen else "",
            "auc": _number(row.auc), "auc1": _number(row.auc_one_time),
            "brier": _number(row.brier, 4), "pb": _number(row.predicted_buyers, 0),
            "ab": _number(row.actual_buyers, 0)})
        if row.note:
            lines.append(f"  {row.label} {row.note}.")  # both already in the reader's language
    one_time_model = (run.fitted or {}).get("chosen_one_time")
    if one_time_model:
        lines.append(_("One-time buyers are scored by %(model)s: it scored them better in the "
                       "backtest.") % {"model": model_label(one_time_model)})
    if run.counts:
        lines.append(_("Counts: %(counts)s") % {"counts": ", ".join(
            f"{name} {value}" for name, value in run.counts.items())})
    if run.durations:
        lines.append(_("Seconds: %(durations)s") % {"durations": ", ".join(
            f"{stage} {seconds:.2f}" for stage, seconds in run.durations.items())})
    return lines


def calibration_svg(run: ScoringRun, *, size: int = 260) -> str:
    """Predicted vs observed rate per decile, one line per model; the diagonal is perfect."""
    pad = 30
    inner = size - 2 * pad

    def point(predicted: float, observed: float) -> str:
        return f"{pad + predicted * inner:.1f},{pad + (1 - observed) * inner:.1f}"

    lines, legend = [], []
    for index, report in enumerate(_reports(run)):
        deciles = report.metrics.calibration
        if not deciles:
            continue
        colour = _COLOURS.get(report.name, "#6c757d")
        points = " ".join(point(d.predicted, d.observed) for d in deciles if d.count)
        lines.append(format_html('<polyline points="{}" fill="none" stroke="{}" '
                                 'stroke-width="2"/>', points, colour))
        legend.append(format_html('<text x="{}" y="{}" fill="{}" font-size="11">{}</text>',
                                  pad + 4, pad + 12 + 14 * index, colour,
                                  model_label(report.name)))
    if not lines:
        return ""
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" role="img" '
        'aria-label="{label}"><rect x="{pad}" y="{pad}" width="{inner}" height="{inner}" '
        'fill="none" stroke="#adb5bd"/><line x1="{pad}" y1="{end}" x2="{end}" y2="{pad}" '
        'stroke="#adb5bd" stroke-dasharray="4"/>{lines}{legend}'
        '<text x="{pad}" y="{bottom}" font-size="11">{x_label}</text>'
        '<text x="4" y="{pad_less}" font-size="11">{y_label}</text></svg>',
        size=size, pad=pad, inner=inner, end=pad + inner, bottom=size - 8, pad_less=pad - 8,
        label=_("Calibration: predicted against observed share who bought, by decile"),
        lines=format_html_join("", "{}", ((line,) for line in lines)),
        legend=format_html_join("", "{}", ((item,) for item in legend)),
        x_label=_("predicted"), y_label=_("observed"),
    )


def _driver_text(code: str, values: dict) -> str | None:
    if code == "bought_on_days":
        count = values.get("count", 0)
        return ngettext("bought on %(count)d day", "bought on %(count)d separate days",
                        count) % {"count": count}
    if code == "days_since_last":
        days, gap = values.get("days", 0), values.get("usual_gap_days")
        text = ngettext("last purchase %(days)d day ago", "last purchase %(days)d days ago",
                        days) % {"days": days}
        if gap:
            text += " " + ngettext("(usually every %(gap)d day)", "(usually every %(gap)d days)",
                                   gap) % {"gap": gap}
        return text
    if code == "customer_for_days":
        days = values.get("days", 0)
        return ngettext("customer for %(days)d day", "customer for %(days)d days",
                        days) % {"days": days}
    if code == "first_order_value":
        return _("first order worth %(amount)s") % {
            "amount": money(values.get("amount", 0), base_currency())}
    if code == "never_returned":
        days = values.get("days", 0)
        return ngettext("has not come back in the %(days)d day since the first order",
                        "has not come back in the %(days)d days since the first order",
                        days) % {"days": days}
    return None


def _count_text(value: float | None, none: str, words: Callable[[int], str]) -> str:
    """`none` for 0 or unknown, else words(count) with the count filled in."""
    count = int(value or 0)
    return str(none) if not count else words(count) % {"count": count}


# Words for the attributes the apps provide (customers.hooks.scoring_features), by name.
_ATTRIBUTE_WORDS = {
    "open_cases": lambda v: _count_text(v, _("no open support case"), lambda n: ngettext(
        "%(count)d open support case", "%(count)d open support cases", n)),
    "recent_cases": lambda v: _count_text(
        v, _("no support case in the last 90 days"), lambda n: ngettext(
            "%(count)d support case in the last 90 days",
            "%(count)d support cases in the last 90 days", n)),
    "website_events_30d": lambda v: _count_text(
        v, _("no website activity in the last 30 days"), lambda n: ngettext(
            "%(count)d website action in the last 30 days",
            "%(count)d website actions in the last 30 days", n)),
    "cart_events_90d": lambda v: _count_text(
        v, _("no cart activity in the last 90 days"), lambda n: ngettext(
            "%(count)d cart or checkout action in the last 90 days",
            "%(count)d cart or checkout actions in the last 90 days", n)),
    "emails_sent_90d": lambda v: _count_text(
        v, _("no marketing email in the last 90 days"), lambda n: ngettext(
            "%(count)d marketing email in the last 90 days",
            "%(count)d marketing emails in the last 90 days", n)),
    "email_clicks_90d": lambda v: _count_text(
        v, _("clicked no link in our emails in the last 90 days"), lambda n: ngettext(
            "clicked a link in %(count)d of our emails in the last 90 days",
            "clicked a link in %(count)d of our emails in the last 90 days", n)),
    "unsubscribed": lambda v: _("unsubscribed from emails") if v else _("has not unsubscribed"),
    "referred": lambda v: _("came through a referral") if v else _("not referred by anyone"),
    "first_order_coupon": lambda v: _("used one of our coupons on the first order") if v else _(
        "none of our coupons on the first order"),
    "survey_score": lambda v: (_("no survey answer") if v is None else
                               _("last survey score %(score)d of 10") % {"score": round(v)}),
}


def _covariate_text(code: str, values: dict, first: Purchase | None) -> str | None:
    """Words for covariate_drivers()'s codes; `first`: the contact's first purchase."""
    if code == "first_items":
        count = values.get("count", 1)
        return ngettext("%(count)d item on the first order", "%(count)d items on the first order",
                        count) % {"count": count}
    if code == "first_coupon":
        return _("used a coupon on the first order") if values.get("used") else _(
            "no coupon on the first order")
    if code == "days_to_second":
        days = values.get("days", 0)
        return ngettext("came back after %(days)d day", "came back after %(days)d days",
                        days) % {"days": days}
    if code != "attribute":
        return _driver_text(code, values)
    name, value = values.get("name"), values.get("value")
    if name == "channel" and first is not None:
        label = first.channel_label or first.get_channel_display()
        return _("first order in the %(channel)s channel") % {"channel": label}
    if name == "source" and first is not None:
        return _("first order recorded from %(source)s") % {"source": first.source}
    if str(name).startswith("first_category:") and first is not None:
        return _first_category_text(first, str(name), value)
    words = _ATTRIBUTE_WORDS.get(str(name))
    return str(words(value)) if words else None


def _first_category_text(first: Purchase, name: str, value: float | None) -> str | None:
    """"first order included Tea" / "no Tea in the first order": the category's name from
    the shop's products (its code is all the model keeps)."""
    from .features import category_code

    code = int(name.rsplit(":", 1)[1])
    category = next((category for category in Product.objects.exclude(category="")
                     .values_list("category", flat=True).distinct().iterator()
                     if category_code(category) == code), None)
    if category is None or value is None:
        return None
    if value:
        return _("first order included %(category)s") % {"category": category}
    return _("no %(category)s in the first order") % {"category": category}


def covariate_words(score: ContactScore) -> list[str]:
    """The main drivers of this contact's number in words, from the covariate model's
    per-feature contributions ([] when the number is not the covariate model's)."""
    run = score.run
    if not run.fitted:
        return []
    from ..normalise import shop_day
    from .features import attributes_at, contact_first_purchase, model_categories
    from .model import pipeline
    from .store import day_index, day_rows

    fitted = pipeline.FittedModels.from_json(run.fitted)
    if fitted.model_for(score.frequency == 0) != "covariate":
        return []
    day = max(run.as_of, shop_day(score.scored_at))
    rows = day_rows(as_of=day, contact_ids=[score.contact_id])
    drivers = pipeline.covariate_drivers(
        fitted, rows, as_of_day=day_index(day),
        attributes=attributes_at(day, contact_ids=[score.contact_id],
                                 categories=model_categories(fitted.state.covariate.features)))
    first = contact_first_purchase(score.contact) if drivers else None
    return [text for code, values in drivers if (text := _covariate_text(code, values, first))]


def explanation(score: ContactScore, *, first_spend: float = 0.0,
                drivers: bool = False) -> str:
    """A short sentence on what drove this contact's number, for the dashboard. `drivers`:
    name the covariate model's main drivers for this contact when its number is that model's
    (a few queries: the contact page, not lists)."""
    from .model import pipeline

    words = covariate_words(score) if drivers else []
    if not words:
        rules = pipeline.explain(score.frequency, score.recency_days, score.age_days,
                                 first_spend, score.p_buy_again)
        words = [text for code, values in rules if (text := _driver_text(code, values))]
    summary = _("%(percent)s likely to buy again") % {"percent": _percent(score.p_buy_again)}
    return f"{summary}: {', '.join(words)}." if words else f"{summary}."


def slipping_text(score: ContactScore) -> str:
    """Why a slipping client is on the call list: what they are worth if they stay, how likely
    they still are to be active, and what a call could win back (score.slipping_value, from
    dashboard.selectors.slipping_value)."""
    value = getattr(score, "slipping_value", None)
    if value is None or score.p_alive is None:
        return ""
    worth = value / max(1.0 - score.p_alive, 1e-9)
    return _("Worth about %(worth)s over 12 months if they stay, %(percent)s likely still "
             "active: about %(value)s a call could win back.") % {
        "worth": money(worth, base_currency()), "percent": _percent(score.p_alive),
        "value": money(value, base_currency())}
