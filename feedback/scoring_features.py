"""feedback's attributes for the likelihood-to-buy-again model (customers.hooks.scoring_features,
registered in FeedbackConfig.ready()). numpy is loaded on use, not at start-up."""
import datetime as dt


def survey_features(day: dt.date, contact_ids):
    """survey_score: the contact's latest survey answer (0-10) given before the end of `day`."""
    from customers.scoring.features import contact_filter, day_end, numeric, pairs

    from .models import SurveyResponse

    answers = contact_filter(SurveyResponse.objects.filter(created_at__lt=day_end(day)),
                             contact_ids)
    rows = answers.order_by("contact_id", "created_at", "id").values_list("contact_id", "score")
    return numeric(survey_score=pairs(rows.iterator(chunk_size=20_000)))  # the last one kept


def register() -> None:
    from customers import hooks

    hooks.scoring_features.register(survey_features)
