#!/usr/bin/env python3
"""GET a URL on loopback; exit 0 on a 2xx answer (bench/run waits for the server with it).

Usage: http_get.py URL [BODY_FILE]   (with BODY_FILE, a 2xx answer's body is written there)
"""
import sys
import urllib.request

try:
    with urllib.request.urlopen(sys.argv[1], timeout=5) as response:
        body = response.read()
        if len(sys.argv) > 2:
            with open(sys.argv[2], "wb") as out:
                out.write(body)
        sys.exit(0 if 200 <= response.status < 300 else 1)
except Exception:  # not up yet, refused, timed out: all mean "not ready"
    sys.exit(1)
