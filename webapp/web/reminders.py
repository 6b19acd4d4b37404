"""Re-review reminders: an iCalendar (RFC 5545) file of a client's re-review (复核) dates.

One all-day event per recorded title on the day its validity ends (granted + the tier's validity years
from the rule tables, see ``records.re_review_dates``), with alarms 90 and 30 days before, when the
application has to be prepared. UIDs are stable, so importing the file again updates the events.
"""

from __future__ import annotations

import datetime as dt

from icalendar import Alarm, Calendar, Event

ALARM_DAYS = (90, 30)
_WORDS = {
    "zh": {"calendar": "{client} 复核提醒", "summary": "{title}复核到期：{client}",
           "description": "{client}于 {granted} 获得{title}，有效期 {years} 年，{due} 到期，需在此前完成复核申报。",
           "alarm": "{days} 天后{title}复核到期：{client}"},
    "en": {"calendar": "{client}: re-review reminders", "summary": "{title} re-review due: {client}",
           "description": "{client} was granted {title} on {granted}, valid for {years} years until {due}; "
                          "its re-review must be filed before then.",
           "alarm": "{title} re-review of {client} due in {days} days"},
}


def calendar(client_name: str, titles: list[dict], tier_names: dict[str, str], *, lang: str,
             stamp: dt.datetime | None = None) -> bytes:
    """The .ics bytes of ``titles`` (rows of ``records.re_review_dates``) for the client ``client_name``."""
    words = _WORDS[lang]
    stamp = stamp or dt.datetime.now(dt.UTC)
    cal = Calendar()
    cal.add("prodid", "-//GiantStep//Re-review reminders//" + lang.upper())
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", words["calendar"].format(client=client_name))
    for row in titles:
        title = row["title"]
        name = tier_names.get(title.tier, title.tier)
        text = {"client": client_name, "title": name, "granted": title.granted_on.isoformat(),
                "years": row["years"], "due": row["due"].isoformat()}
        event = Event()
        event.add("uid", f"giantstep-title-{title.id}-{title.tier}-{title.granted_on:%Y%m%d}@giantstep")
        event.add("dtstamp", stamp)
        event.add("dtstart", row["due"])
        event.add("dtend", row["due"] + dt.timedelta(days=1))
        event.add("summary", words["summary"].format(**text))
        event.add("description", words["description"].format(**text))
        event.add("transp", "TRANSPARENT")
        for days in ALARM_DAYS:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("trigger", dt.timedelta(days=-days))
            alarm.add("description", words["alarm"].format(days=days, **text))
            event.add_component(alarm)
        cal.add_component(event)
    return cal.to_ical()
