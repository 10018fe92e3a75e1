"""Beat schedules in words, in the active language: "every day at 02:00 (Europe/Istanbul)",
"her gün 02:00 (Europe/Istanbul)", "every 5 minutes". What has no simple wording is shown as
the cron expression it is."""
import re

from babel import Locale, UnknownLocaleError
from babel.dates import get_day_names
from django.utils.translation import get_language, gettext, ngettext, to_locale

_NUMBER = re.compile(r"\d{1,2}")
_EVERY_N = re.compile(r"\*/(\d{1,3})")
# Cron's days: 0 and 7 are Sunday; Babel's: 0 is Monday.
_CRON_DAYS = {"sun": 6, "mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5}


def schedule_in_words(task) -> str:
    """A django_celery_beat PeriodicTask's schedule in words ("" when it has none we know)."""
    if task.interval_id:
        return interval_in_words(task.interval.every, task.interval.period)
    if task.crontab_id:
        crontab = task.crontab
        return crontab_in_words(crontab.minute, crontab.hour, crontab.day_of_week,
                                crontab.day_of_month, crontab.month_of_year, str(crontab.timezone))
    return ""


def interval_in_words(every: int, period: str) -> str:
    wordings = {"seconds": _seconds, "minutes": _minutes, "hours": _hours, "days": _days}
    if period not in wordings:
        return f"{every} {period}"
    return wordings[period](every)


def _seconds(count: int) -> str:
    if count == 1:
        return gettext("every second")
    return ngettext("every %(count)s second", "every %(count)s seconds", count) % {
        "count": count}


def _minutes(count: int) -> str:
    if count == 1:
        return gettext("every minute")
    return ngettext("every %(count)s minute", "every %(count)s minutes", count) % {
        "count": count}


def _hours(count: int) -> str:
    if count == 1:
        return gettext("every hour")
    return ngettext("every %(count)s hour", "every %(count)s hours", count) % {"count": count}


def _days(count: int) -> str:
    if count == 1:
        return gettext("every day")
    return ngettext("every %(count)s day", "every %(count)s days", count) % {"count": count}


def crontab_in_words(minute: str, hour: str, day_of_week: str = "*", day_of_month: str = "*",
                     month_of_year: str = "*", time_zone: str = "UTC") -> str:
    minute, hour, day_of_week, day_of_month, month_of_year = (
        str(part).strip().lower() for part in (minute, hour, day_of_week, day_of_month,
                                               month_of_year))
    words = _crontab_words(minute, hour, day_of_week, day_of_month, month_of_year)
    if words is None:
        words = gettext("cron %(expression)s") % {"expression": " ".join(
            (minute, hour, day_of_month, month_of_year, day_of_week))}
    return f"{words} ({time_zone})"


def _crontab_words(minute, hour, day_of_week, day_of_month, month_of_year) -> str | None:
    if month_of_year != "*":
        return None
    if (hour, day_of_week, day_of_month) == ("*", "*", "*") and not _NUMBER.fullmatch(minute):
        return _every_minutes(minute)
    if not _NUMBER.fullmatch(minute):
        return None
    if day_of_week == "*" and day_of_month == "*":
        if hour == "*":
            return gettext("every hour at minute %(minute)s") % {"minute": int(minute)}
        every = _EVERY_N.fullmatch(hour)
        if every and minute == "0":
            return _hours(int(every.group(1)))
    if not _NUMBER.fullmatch(hour):
        return None
    time = f"{int(hour):02d}:{int(minute):02d}"
    if day_of_month != "*":
        if day_of_week != "*" or not _NUMBER.fullmatch(day_of_month):
            return None
        return gettext("every month on day %(day)s at %(time)s") % {
            "day": int(day_of_month), "time": time}
    if day_of_week == "*":
        return gettext("every day at %(time)s") % {"time": time}
    if day_of_week in ("1-5", "mon-fri"):
        return gettext("on weekdays at %(time)s") % {"time": time}
    day = _day_name(day_of_week)
    if day is None:
        return None
    return gettext("every %(day)s at %(time)s") % {"day": day, "time": time}


def _every_minutes(minute: str) -> str | None:
    if minute == "*":
        return _minutes(1)
    every = _EVERY_N.fullmatch(minute)
    return _minutes(int(every.group(1))) if every else None


def _day_name(day_of_week: str) -> str | None:
    if day_of_week.isdigit() and int(day_of_week) <= 7:
        index = (int(day_of_week) - 1) % 7
    elif day_of_week in _CRON_DAYS:
        index = _CRON_DAYS[day_of_week]
    else:
        return None
    try:
        locale = Locale.parse(to_locale(get_language() or "en"))
    except (UnknownLocaleError, ValueError):
        locale = Locale.parse("en")
    return get_day_names("wide", locale=locale)[index]
