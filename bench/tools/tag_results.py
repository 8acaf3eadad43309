#!/usr/bin/env python3
"""Reads RESULT JSON objects (one per line) on stdin and writes them back with "section" added.

Used by bench/run to keep every benchmark's RESULT lines in one JSON-lines file.
Usage: tag_results.py SECTION < lines > tagged
"""
import json
import sys


def main() -> int:
    section = sys.argv[1]
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            result = json.loads(line)
        except json.JSONDecodeError as error:
            print(f"tag_results: not JSON ({error}): {line[:200]}", file=sys.stderr)
            continue
        result["section"] = section
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
