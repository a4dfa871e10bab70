"""The one way Pillarwise writes dates and times in English (settings.FORMAT_MODULE_PATH).

Templates name these formats, never a pattern of their own (``|date``, ``|date:"DATETIME_FORMAT"``,
``|time``; tests/test_date_formats.py holds every template to it), and Python text uses
``django.utils.formats.date_format``. Month names, never a numeric day/month order a reader
could take the wrong way round; a 12-hour clock, as US districts read it. Times are shown
in the district's time zone (schools.scoping.district_time_zone).
"""

DATE_FORMAT = "M j, Y"  # Aug 15, 2026
DATETIME_FORMAT = "M j, Y, g:i A"  # Aug 15, 2026, 3:30 PM
TIME_FORMAT = "g:i A"  # 3:30 PM
YEAR_MONTH_FORMAT = "F Y"  # August 2026
MONTH_DAY_FORMAT = "M j"  # Aug 15 (the first date of a range in one year)
SHORT_DATE_FORMAT = DATE_FORMAT
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
