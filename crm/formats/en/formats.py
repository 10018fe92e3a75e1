"""English dates and times as the CRM shows them: Django's English formats with a 24-hour
clock. Its "P" ("8 a.m.", "noon") ends in a full stop, so a sentence such as "Scored 12/07/2026
8 a.m.." got two; shops (and the Turkish side) read times as 08:00."""
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "N j, Y, H:i"
SHORT_DATETIME_FORMAT = "m/d/Y H:i"
