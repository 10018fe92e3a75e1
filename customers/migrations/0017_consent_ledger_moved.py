"""The consent ledger (ConsentWording, ConsentRecord), moved from privacy (issue #16): created
in the state only, on the tables privacy 0002 made (kept by db_table). Their content types are
relabelled, so their permissions keep their rows and ids (and the groups that hold them);
privacy 0004 then drops the models from privacy's state."""
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

MODELS = ('consentwording', 'consentrecord')


def _relabel(apps, old, new):
    """The old label's content type (and with it its permissions and their grants) takes the
    new label. A content type already under the new label can only have been made since by
    code that has the models under that label while the database was migrated back (e.g.
    get_for_model on a page): it is deleted first, with its permissions, so the rows that
    groups and users hold are the ones kept."""
    ContentType = apps.get_model('contenttypes', 'ContentType')
    for model in MODELS:
        if not ContentType.objects.filter(app_label=old, model=model).exists():
            continue
        ContentType.objects.filter(app_label=new, model=model).delete()
        ContentType.objects.filter(app_label=old, model=model).update(app_label=new)


def _content_types_to_customers(apps, schema_editor):
    _relabel(apps, 'privacy', 'customers')


def _content_types_to_privacy(apps, schema_editor):
    _relabel(apps, 'customers', 'privacy')


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('customers', '0016_kpisnapshot_moved_to_dashboard'),
        ('privacy', '0003_consent_method_spam_complaint'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ConsentWording',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('purpose', models.CharField(choices=[('marketing_email', 'Marketing email')], default='marketing_email', max_length=32, verbose_name='purpose')),
                        ('language', models.CharField(choices=[('en', 'English'), ('tr', 'Turkish')], max_length=8, verbose_name='language')),
                        ('version', models.CharField(help_text='A short label, e.g. 2026-12 or 2.', max_length=32, verbose_name='version')),
                        ('text', models.TextField(help_text='The exact wording shown to the person.', verbose_name='text')),
                        ('published_at', models.DateTimeField(default=django.utils.timezone.now, help_text='From this time on, the latest published version is the current one.', verbose_name='published at')),
                        ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='created by')),
                    ],
                    options={
                        'verbose_name': 'consent wording',
                        'verbose_name_plural': 'consent wordings',
                        'db_table': 'privacy_consentwording',
                        'ordering': ['purpose', 'language', '-published_at', '-id'],
                        'constraints': [models.UniqueConstraint(fields=('purpose', 'language', 'version'), name='consent_wording_version_unique')],
                    },
                ),
                migrations.CreateModel(
                    name='ConsentRecord',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('given', models.BooleanField(verbose_name='consent given')),
                        ('purpose', models.CharField(choices=[('marketing_email', 'Marketing email')], default='marketing_email', max_length=32, verbose_name='purpose')),
                        ('occurred_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='when')),
                        ('recorded_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='recorded at')),
                        ('method', models.CharField(choices=[('staff_form', 'In person, recorded by staff'), ('api', 'API'), ('csv_import', 'CSV import'), ('public_form', 'Form on the website or at checkout'), ('unsubscribe_link', 'Unsubscribe link'), ('one_click', 'One-click unsubscribe (mail client)'), ('spam_complaint', "Marked as spam (mailbox provider's report)"), ('request', 'Request by email, phone or support'), ('erasure', 'Erasure of personal data')], max_length=32, verbose_name='how')),
                        ('source', models.CharField(blank=True, help_text="E.g. the shop's name or the campaign.", max_length=64, verbose_name='source')),
                        ('language', models.CharField(blank=True, max_length=8, verbose_name='language')),
                        ('evidence', models.CharField(blank=True, help_text='E.g. checkbox on the checkout page, order 1234.', max_length=200, verbose_name='evidence')),
                        ('contact', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='consent_records', to='customers.contact', verbose_name='contact')),
                        ('recorded_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='recorded by')),
                        ('wording', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='records', to='customers.consentwording', verbose_name='wording')),
                    ],
                    options={
                        'verbose_name': 'consent record',
                        'verbose_name_plural': 'consent records',
                        'db_table': 'privacy_consentrecord',
                        'ordering': ['-occurred_at', '-id'],
                        'default_permissions': ('view',),
                        'indexes': [models.Index(fields=['contact', 'occurred_at'], name='consent_contact_time_idx')],
                        'constraints': [models.CheckConstraint(condition=models.Q(('given', False), ('wording__isnull', False), _connector='OR'), name='consent_given_has_wording')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(_content_types_to_customers, _content_types_to_privacy),
    ]
