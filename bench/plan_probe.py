"""Reminder planning over an existing data set, in a process of its own so its peak RSS is its own.

    python -m bench.plan_probe DATABASE_URL     (prints one JSON object)

Reuses ``bench.reminder_plan.plan`` (the reminders capability's bench) on the generator's data.
"""

from __future__ import annotations

import json
import sys

from bench.reminder_plan import plan
from billing_core.db.database import Database


def main() -> None:
    db = Database(sys.argv[1])
    try:
        print(json.dumps(plan(db)))
    finally:
        db.dispose()


if __name__ == "__main__":
    main()
