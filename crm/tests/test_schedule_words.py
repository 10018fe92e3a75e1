"""Beat schedules in words, in English and Turkish, shown and changed in the shop's time zone."""
import pytest
from django.urls import reverse
from django.utils import translation
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from crm.schedule_words import crontab_in_words, interval_in_words, schedule_in_words
from crm.shop import shop_settings_save


@pytest.fixture
def turkish():
    with translation.override("tr"):
        yield


@pytest.mark.parametrize(("cron", "english"), [
    (("0", "2"), "every day at 02:00 (Europe/Istanbul)"),
    (("30", "17"), "every day at 17:30 (Europe/Istanbul)"),
    (("15", "*"), "every hour at minute 15 (Europe/Istanbul)"),
    (("0", "*/3"), "every 3 hours (Europe/Istanbul)"),
    (("*/5", "*"), "every 5 minutes (Europe/Istanbul)"),
    (("*", "*"), "every minute (Europe/Istanbul)"),
    (("0", "10", "1"), "every Monday at 10:00 (Europe/Istanbul)"),
    (("0", "10", "0"), "every Sunday at 10:00 (Europe/Istanbul)"),
    (("0", "10", "sat"), "every Saturday at 10:00 (Europe/Istanbul)"),
    (("0", "9", "1-5"), "on weekdays at 09:00 (Europe/Istanbul)"),
    (("0", "2", "*", "1"), "every month on day 1 at 02:00 (Europe/Istanbul)"),
    (("0", "2,14"), "cron 0 2,14 * * * (Europe/Istanbul)"),
    (("0", "2", "*", "*", "6"), "cron 0 2 * 6 * (Europe/Istanbul)"),
])
def test_common_crontabs_in_english(cron, english):
    assert crontab_in_words(*cron, **{"time_zone": "Europe/Istanbul"}) == english


@pytest.mark.parametrize(("cron", "turkish_words"), [
    (("0", "2"), "her gün 02:00 (Europe/Istanbul)"),
    (("15", "*"), "her saatin 15. dakikasında (Europe/Istanbul)"),
    (("0", "*/3"), "her 3 saatte bir (Europe/Istanbul)"),
    (("*/5", "*"), "her 5 dakikada bir (Europe/Istanbul)"),
    (("*", "*"), "her dakika (Europe/Istanbul)"),
    (("0", "10", "1"), "her Pazartesi 10:00 (Europe/Istanbul)"),
    (("0", "9", "1-5"), "hafta içi her gün 09:00 (Europe/Istanbul)"),
    (("0", "2", "*", "1"), "her ayın 1. günü 02:00 (Europe/Istanbul)"),
])
def test_common_crontabs_in_turkish(turkish, cron, turkish_words):
    assert crontab_in_words(*cron, time_zone="Europe/Istanbul") == turkish_words


@pytest.mark.parametrize(("every", "period", "english", "turkish_words"), [
    (1, "minutes", "every minute", "her dakika"),
    (15, "minutes", "every 15 minutes", "her 15 dakikada bir"),
    (1, "hours", "every hour", "her saat"),
    (2, "days", "every 2 days", "her 2 günde bir"),
    (30, "seconds", "every 30 seconds", "her 30 saniyede bir"),
])
def test_intervals_in_both_languages(turkish, every, period, english, turkish_words):
    assert interval_in_words(every, period) == turkish_words
    with translation.override("en"):
        assert interval_in_words(every, period) == english


# --- Shown and changed in the shop's time zone -----------------------------------------------


def _daily(name: str, hour: str = "2", time_zone: str = "UTC") -> PeriodicTask:
    crontab = CrontabSchedule.objects.create(minute="0", hour=hour, timezone=time_zone)
    return PeriodicTask.objects.create(name=name, task="crm.heartbeat", crontab=crontab)


@pytest.mark.django_db
def test_the_shipped_schedules_read_in_words():
    words = {task.name: schedule_in_words(task) for task in PeriodicTask.objects.all()}

    assert words["Score contacts (likelihood to buy again)"] == "every day at 02:00 (UTC)"
    assert words["Worker heartbeat"] == "every minute"


@pytest.mark.django_db
def test_setting_the_shops_time_zone_keeps_the_schedules_wall_clock_times():
    shop_settings_save(values={"name": "Dükkan", "base_currency": "TRY",
                               "time_zone": "Europe/Istanbul", "default_language": "tr",
                               "sender_email": "a@shop.example"})

    task = PeriodicTask.objects.get(name="Score contacts (likelihood to buy again)")
    assert schedule_in_words(task) == "every day at 02:00 (Europe/Istanbul)"


@pytest.mark.django_db
def test_managers_see_the_schedules_in_words(client, manager):
    client.force_login(manager)

    body = client.get(reverse("schedule_list")).content.decode()

    assert "every day at 02:00 (UTC)" in body
    assert "(m/h/dM/MY/d)" not in body


@pytest.mark.django_db
def test_a_manager_changes_a_time_in_the_shops_time_zone(client, manager, settings):
    settings.TIME_ZONE = "Europe/Istanbul"
    task = _daily("Nightly")
    client.force_login(manager)

    response = client.post(reverse("schedule_edit", args=[task.pk]),
                           {"day_of_week": "1", "time": "03:30"})

    assert response["Location"] == reverse("schedule_list")
    task.refresh_from_db()
    assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_week,
            str(task.crontab.timezone)) == ("30", "3", "1", "Europe/Istanbul")
    assert schedule_in_words(task) == "every Monday at 03:30 (Europe/Istanbul)"


@pytest.mark.django_db
def test_sales_staff_cannot_see_or_change_schedules(sales_client):
    task = _daily("Nightly")

    assert sales_client.get(reverse("schedule_list")).status_code == 403
    assert sales_client.post(reverse("schedule_edit", args=[task.pk]),
                             {"day_of_week": "*", "time": "04:00"}).status_code == 403
    task.refresh_from_db()
    assert task.crontab.hour == "2"


@pytest.mark.django_db
def test_the_schedules_page_escapes_task_names(client, manager):
    _daily("<img src=x onerror=alert(1)>")
    client.force_login(manager)

    body = client.get(reverse("schedule_list")).content.decode()

    assert "<img src=x" not in body and "&lt;img src=x onerror=alert(1)&gt;" in body


@pytest.mark.django_db
def test_the_admin_lists_periodic_tasks_in_words(client, manager):
    client.force_login(manager)

    body = client.get(reverse("admin:django_celery_beat_periodictask_changelist")).content.decode()
    crontabs = client.get(
        reverse("admin:django_celery_beat_crontabschedule_changelist")).content.decode()

    assert "every day at 02:00 (UTC)" in body and "every 15 minutes" in body
    assert "every day at 03:30 (UTC)" in crontabs


@pytest.mark.django_db
def test_a_new_crontab_in_the_admin_starts_in_the_shops_time_zone(client, manager, settings):
    settings.TIME_ZONE = "Europe/Istanbul"
    client.force_login(manager)

    response = client.get(reverse("admin:django_celery_beat_crontabschedule_add"))

    assert str(response.context["adminform"].form.initial["timezone"]) == "Europe/Istanbul"
