"""The consent ledger moved to customers (issue #16): gone from privacy's state only; its
tables (privacy_consentwording, privacy_consentrecord) stay and customers 0017 took them over,
content types included. No other app's model points at them."""
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0017_consent_ledger_moved'),
        ('privacy', '0003_consent_method_spam_complaint'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='ConsentRecord'),
                migrations.DeleteModel(name='ConsentWording'),
            ],
            database_operations=[],
        ),
    ]
