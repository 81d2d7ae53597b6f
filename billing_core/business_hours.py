"""When a DM may reach a person: business hours on their own clock (reminders and autopay's
card-expiry notices both wait for them)."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

BUSINESS_START = time(9, 0)
BUSINESS_END = time(17, 0)


def zone_or_utc(name: str | None) -> ZoneInfo:
    """The named zone, or UTC when the chat workspace gave none or an unknown one."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo("UTC")


def within_business_hours(now: datetime, zone: ZoneInfo) -> bool:
    """True from 09:00 to 17:00, Monday to Friday, on the recipient's own clock."""
    local = now.astimezone(zone)
    return local.weekday() < 5 and BUSINESS_START <= local.time() < BUSINESS_END
