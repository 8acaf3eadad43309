#!/usr/bin/env python3
"""Creates one booking through POST /api/bookings and prints its id (for the status benchmark).

Usage: http_post_booking.py BASE_URL STUDENT_TOKEN
"""
import datetime
import json
import sys
import urllib.error
import urllib.request


def main() -> int:
    base, token = sys.argv[1], sys.argv[2]
    start = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=7)
    body = {"tutor_id": "t1", "subject": "Mathematics", "scheduled_start": start.strftime("%Y-%m-%dT%H:%M:00Z"),
            "duration_minutes": 60, "price": {"amount": 35000, "currency": "ETB"}}
    request = urllib.request.Request(base + "/api/bookings", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", "Authorization": "Bearer " + token})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            print(json.loads(response.read())["id"])
            return 0
    except urllib.error.HTTPError as error:
        print(f"{error.code} {error.read()[:300]!r}")
    except Exception as error:  # the caller reports whatever went wrong
        print(str(error))
    return 1


if __name__ == "__main__":
    sys.exit(main())
