#!/usr/bin/env python3
"""One pgbench run as a RESULT JSON object: transactions/s and latency percentiles.

pgbench -l writes one line per transaction into tx.<pid>[.<thread>] files:
  client_id transaction_no time_us script_no time_epoch time_us_fraction
(time_us is the transaction's latency). Its summary (out.txt) gives tps and failures.
Usage: pgbench_result.py COMMAND CLIENTS FOLDER
"""
import glob
import json
import os
import re
import sys


def percentile(sorted_values, q):
    if not sorted_values:
        return 0.0
    rank = min(int(q * len(sorted_values)), len(sorted_values) - 1)
    return sorted_values[rank]


def main() -> int:
    command, clients, folder = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    summary = open(os.path.join(folder, "out.txt"), encoding="utf-8", errors="replace").read()
    tps = 0.0
    match = re.search(r"tps = ([0-9.]+) \((without|excluding)", summary)
    if match:
        tps = float(match.group(1))
    processed = re.search(r"number of transactions actually processed: (\d+)", summary)
    failed = re.search(r"number of failed transactions: (\d+)", summary)
    aborted = len(re.findall(r"client \d+ aborted", summary))
    latencies_ms = []
    for path in glob.glob(os.path.join(folder, "tx.*")):
        with open(path, encoding="utf-8") as log:
            for line in log:
                fields = line.split()
                if len(fields) >= 3 and fields[2].isdigit():
                    latencies_ms.append(int(fields[2]) / 1000.0)
    latencies_ms.sort()
    result = {
        "bench": "postgres",
        "command": command,
        "clients": clients,
        "tps": tps,
        "transactions": int(processed.group(1)) if processed else len(latencies_ms),
        "failed": (int(failed.group(1)) if failed else 0) + aborted,
        "p50_ms": percentile(latencies_ms, 0.50),
        "p99_ms": percentile(latencies_ms, 0.99),
        "p999_ms": percentile(latencies_ms, 0.999),
    }
    if tps == 0.0:
        result["error"] = summary.strip().splitlines()[-1][:300] if summary.strip() else "no output"
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
