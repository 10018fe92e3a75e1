"""The contact list's rows, rendered in Python.

The list is the sales team's most requested page, and Django's template engine resolving a
dozen variables and filters per row was most of its cost. This tag writes the same markup with
the same formatting functions (localised dates, numbers and money, escaped text) in a loop.
"""
from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from crm.numbers import percent
from customers.templatetags.money import money

register = template.Library()

_ROW = """  <tr>{}
    <td><a href="{}">{}</a>
        {}</td>
    <td><span class="badge stage-{}">{}</span></td>
    <td class="text-end">{}</td>
    <td class="text-end">{}{}</td>
    <td>{}</td>
    <td class="text-end">{}</td>
    <td>{}</td>
  </tr>
"""


# A ticked row belongs to the bulk-action form above the table (dashboard/_bulk_bar.html).
_TICK = """
    <td><input class="form-check-input" type="checkbox" name="ids" value="{}" form="bulk-form"
               aria-label="{}" data-bulk-row></td>"""


@register.simple_tag
def contact_rows(contacts, base_currency: str, selectable: bool = False) -> SafeString:
    # One reverse() for the page: the detail URL differs only by the id at its end.
    detail = reverse("dashboard:contact_detail", args=[987654321])
    before, _id, after = detail.partition("987654321")
    return mark_safe("".join(_row(contact, base_currency, before, after, selectable)  # escaped
                             for contact in contacts))


def _row(contact, base_currency: str, url_before: str, url_after: str,
         selectable: bool = False) -> str:
    name = contact.full_name
    email = format_html('<div class="small text-body-secondary">{}</div>', contact.email) \
        if name else ""
    last = "—"
    if contact.last_purchase_at:
        local = timezone.localtime(contact.last_purchase_at)
        last = format_html('<time datetime="{}">{}</time>', formats.date_format(local, "c"),
                           formats.date_format(local, "SHORT_DATE_FORMAT"))
    score = getattr(contact, "current_score", None)  # only when a scoring run exists
    likely = percent(score.p_buy_again) if score else "—"
    owner = contact.owner.display_name if contact.owner_id else ""
    provisional = format_html(
        ' <span class="badge text-bg-warning" data-testid="provisional" title="{}">{}</span>',
        gettext("Some purchases wait for an exchange rate: they are left out of this total "
                "until converted."),
        gettext("provisional")) if getattr(contact, "provisional", False) else ""
    tick = format_html(_TICK, contact.pk, gettext("Select %(contact)s") % {
        "contact": name or contact.email}) if selectable else ""
    return format_html(
        _ROW, tick, f"{url_before}{contact.pk}{url_after}", name or contact.email, email,
        contact.stage, contact.get_stage_display(), intcomma(contact.purchase_count),
        money(contact.total_spent, base_currency), provisional, last, likely, owner or "—")
