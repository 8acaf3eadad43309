#!/usr/bin/env python3
"""Where a wrk run's latency went, from the server's own /metrics scraped before and after it.

Usage: server_side_latency.py ENDPOINT ROUTE BEFORE.txt AFTER.txt

Prints one RESULT JSON object (bench "http_server_side") with, for the run alone (after minus
before): the durable writes (tl_engine_batch_write_seconds: WriteBatch + fsync per group commit),
the route's request durations as the server measured them (tl_http_request_duration_seconds, from
a request's arrival to the end of its response) and the average batch. Quantiles are
the upper bound of the histogram bucket that holds them ("at most"), as Prometheus buckets allow.
"""
import json
import re
import sys

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$')


def samples(path):
    """{(name, labels text): value} of a Prometheus text file."""
    found = {}
    with open(path, encoding="utf-8") as text:
        for line in text:
            match = SAMPLE.match(line.strip())
            if match:
                found[(match.group(1), match.group(2) or "")] = float(match.group(3))
    return found


def histogram(before, after, name, label_filter=""):
    """(count, sum, [(upper bound s, cumulative count)]) of the run for one histogram series."""
    buckets = []
    for (sample_name, labels), value in after.items():
        if sample_name != name + "_bucket" or label_filter not in labels:
            continue
        le = re.search(r'le="([^"]+)"', labels).group(1)
        bound = float("inf") if le == "+Inf" else float(le)
        buckets.append((bound, value - before.get((sample_name, labels), 0.0)))
    buckets.sort()
    series = "{" + label_filter + "}" if label_filter else ""
    count = after.get((name + "_count", series), 0.0) - before.get((name + "_count", series), 0.0)
    total = after.get((name + "_sum", series), 0.0) - before.get((name + "_sum", series), 0.0)
    return count, total, buckets


def quantile_at_most_ms(buckets, count, q):
    """Upper bound, in ms, of the bucket holding quantile q; None when empty or above the last bound."""
    if count <= 0:
        return None
    for bound, cumulative in buckets:
        if cumulative >= q * count:
            return None if bound == float("inf") else round(bound * 1000.0, 3)
    return None


def main() -> int:
    endpoint, route, before_path, after_path = sys.argv[1:5]
    before, after = samples(before_path), samples(after_path)
    result = {"bench": "http_server_side", "endpoint": endpoint, "route": route}

    writes, write_s, write_buckets = histogram(before, after, "tl_engine_batch_write_seconds")
    result["writes"] = int(writes)
    result["write_mean_ms"] = round(write_s / writes * 1000.0, 3) if writes else None
    for q, key in ((0.5, "write_p50_ms_at_most"), (0.99, "write_p99_ms_at_most"), (0.999, "write_p999_ms_at_most")):
        result[key] = quantile_at_most_ms(write_buckets, writes, q)
    slow = [(bound, cumulative) for bound, cumulative in write_buckets if bound >= 0.01]
    result["writes_over_10ms"] = int(writes - slow[0][1]) if slow and bound_is(slow[0][0], 0.01) else None

    label = 'route="%s"' % route
    requests, request_s, request_buckets = histogram(before, after, "tl_http_request_duration_seconds", label)
    result["server_requests"] = int(requests)
    result["server_mean_ms"] = round(request_s / requests * 1000.0, 3) if requests else None
    for q, key in ((0.5, "server_p50_ms_at_most"), (0.99, "server_p99_ms_at_most")):
        result[key] = quantile_at_most_ms(request_buckets, requests, q)

    batches = after.get(("tl_engine_batch_commands_count", ""), 0.0) - before.get(("tl_engine_batch_commands_count", ""), 0.0)
    commands = after.get(("tl_engine_batch_commands_sum", ""), 0.0) - before.get(("tl_engine_batch_commands_sum", ""), 0.0)
    result["batch_avg"] = round(commands / batches, 1) if batches else None
    print(json.dumps(result))
    return 0


def bound_is(bound, seconds):
    return abs(bound - seconds) < 1e-12


if __name__ == "__main__":
    sys.exit(main())
