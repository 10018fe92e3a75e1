"""What support/ holds about a person, for export and erasure (see crm/personal_data.py).

Cases stay, so the service figures (answered within target, time to solve) do not change;
what the person wrote, and anything staff wrote about them, goes.
"""
from crm.personal_data import Replace, Section

from .models import Case, CaseMessage

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
        # The Message-ID of an email that opened the case can name its sender's host.
        erase=Replace({"subject": ERASED_SUBJECT, "description": "", "message_id": ""},
                      stamp="updated_at"),
        count_key="support_cases_blanked",
    ),
    # The thread: replies staff emailed and the person's answers. The rows stay (when and in
    # which direction: the service figures), the words and the addresses go.
    Section(
        name="support_case_messages", model=CaseMessage, by="case__contact",
        order_by=("sent_at", "id"),
        columns=(("case", "case_id"), ("direction", "direction"), ("body", "body"),
                 ("from", "from_address"), ("sent_at", "sent_at")),
        erase=Replace({"body": "", "from_address": "", "message_id": ""}),
    ),
)
