"""support's attributes for the likelihood-to-buy-again model (customers.hooks.scoring_features,
registered in SupportConfig.ready()). numpy is loaded on use, not at start-up."""
import datetime as dt

RECENT_DAYS = 90


def case_features(day: dt.date, contact_ids):
    """open_cases: cases opened before the end of `day` and not solved by then; recent_cases:
    cases opened in the RECENT_DAYS up to it."""
    from django.db.models import Count, Q

    from customers.scoring.features import contact_filter, day_end, numeric, pairs

    from .models import Case

    end = day_end(day)
    cases = contact_filter(Case.objects.filter(created_at__lt=end), contact_ids)

    def per_contact(queryset):
        return pairs(queryset.order_by().values("contact_id").annotate(n=Count("id"))
                     .values_list("contact_id", "n"))

    return numeric(
        open_cases=per_contact(cases.filter(Q(solved_at__isnull=True) | Q(solved_at__gte=end))),
        recent_cases=per_contact(
            cases.filter(created_at__gte=end - dt.timedelta(days=RECENT_DAYS))),
    )


def register() -> None:
    from customers import hooks

    hooks.scoring_features.register(case_features)
