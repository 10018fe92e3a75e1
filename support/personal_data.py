"""What support/ holds about a person, for export and erasure (see crm/personal_data.py).

Cases stay, so the service figures (answered within target, time to solve) do not change;
what the person wrote, and anything staff wrote about them, goes.
"""
from crm.personal_data import Replace, Section

from .models import Case

# The subject is required wherever a case is shown; a dash says "nothing here" in any language.
ERASED_SUBJECT = "—"

SECTIONS = (
    Section(
        name="support_cases", model=Case, by="contact", order_by=("created_at", "id"),
        columns=(("id", "id"), ("subject", "subject"), ("description", "description"),
                 ("channel", "channel"), ("priority", "priority"), ("status", "status"),
                 ("created_at", "created_at"), ("first_response_at", "first_response_at"),
                 ("solved_at", "solved_at")),
        # The subject and the description are free text (a public form's message, an email's
        # body): they name the person, their phone number, their address.
        erase=Replace({"subject": ERASED_SUBJECT, "description": ""}, stamp="updated_at"),
        count_key="support_cases_blanked",
    ),
)
