#!/usr/bin/env python3
"""One wrk run (with --latency) as a RESULT JSON object.

Usage: wrk_result.py NAME WRK_OUTPUT_FILE
"""
import json
import re
import sys

UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def to_ms(text):
    match = re.fullmatch(r"([0-9.]+)(us|ms|s)", text)
    return float(match.group(1)) * UNITS_MS[match.group(2)] if match else 0.0


def main() -> int:
    name, path = sys.argv[1], sys.argv[2]
    output = open(path, encoding="utf-8", errors="replace").read()
    result = {"bench": "http", "endpoint": name, "requests_per_s": 0.0, "requests": 0, "non_2xx": 0,
              "socket_errors": 0, "p50_ms": 0.0, "p90_ms": 0.0, "p99_ms": 0.0}
    match = re.search(r"Requests/sec:\s+([0-9.]+)", output)
    if match:
        result["requests_per_s"] = float(match.group(1))
    match = re.search(r"(\d+) requests in", output)
    if match:
        result["requests"] = int(match.group(1))
    match = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if match:
        result["non_2xx"] = int(match.group(1))
    match = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if match:
        result["socket_errors"] = sum(int(group) for group in match.groups())
    for label, key in (("50%", "p50_ms"), ("90%", "p90_ms"), ("99%", "p99_ms")):
        match = re.search(r"^\s+" + re.escape(label) + r"\s+([0-9.]+(?:us|ms|s))\s*$", output, re.MULTILINE)
        if match:
            result[key] = to_ms(match.group(1))
    if result["requests"] == 0:
        result["error"] = output.strip()[-300:]
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
