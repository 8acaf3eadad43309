#!/usr/bin/env python3
"""GET a URL on loopback; exit 0 on a 2xx answer (bench/run waits for the server with it)."""
import sys
import urllib.request

try:
    with urllib.request.urlopen(sys.argv[1], timeout=1) as response:
        sys.exit(0 if 200 <= response.status < 300 else 1)
except Exception:  # not up yet, refused, timed out: all mean "not ready"
    sys.exit(1)
