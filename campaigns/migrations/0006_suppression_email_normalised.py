"""Suppressed addresses stored as contacts' addresses are (trimmed, lower case).

The admin saved them as typed, and the send-time check compares lower case, so `Bob@Example.com`
did not stop an email to bob@example.com. Existing rows are normalised first; when one address
was suppressed more than once under different capitalisations, the oldest entry stays (as
address_suppress keeps an existing entry's reason) and the others go. Then a constraint keeps
every later write normalised.
"""
from django.db import migrations, models
from django.db.models.functions import Lower, Trim

CHUNK = 500  # addresses per IN (...): well under SQLite's parameter limit


def normalised(email: str) -> str:
    # customers.normalise.normalise_email without the validation: a stored row is kept, never
    # refused (the constraint checks the form only).
    return email.strip().lower()


def normalise_suppressions(apps, schema_editor) -> None:
    Suppression = apps.get_model("campaigns", "Suppression")
    rows = Suppression.objects.using(schema_editor.connection.alias)
    dirty = [(pk, email) for pk, email in rows.values_list("pk", "email").iterator()
             if email != normalised(email)]
    keys = sorted({normalised(email) for _pk, email in dirty})
    groups: dict[str, list] = {key: [] for key in keys}
    for start in range(0, len(keys), CHUNK):
        for row in rows.filter(email__in=keys[start:start + CHUNK]):
            groups[row.email].append(row)
    for start in range(0, len(dirty), CHUNK):
        for row in rows.filter(pk__in=[pk for pk, _email in dirty[start:start + CHUNK]]):
            groups[normalised(row.email)].append(row)
    for key, group in groups.items():
        kept, *others = sorted(group, key=lambda row: (row.created_at, row.pk))
        rows.filter(pk__in=[row.pk for row in others]).delete()  # before the rename: unique
        if kept.email != key:
            rows.filter(pk=kept.pk).update(email=key)


class Migration(migrations.Migration):

    dependencies = [
        ("campaigns", "0005_website_event_trigger"),
    ]

    operations = [
        migrations.RunPython(normalise_suppressions, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name="suppression",
            constraint=models.CheckConstraint(condition=models.Q(email=Lower(Trim("email"))),
                                              name="suppression_email_normalised"),
        ),
    ]
