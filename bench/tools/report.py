#!/usr/bin/env python3
"""Writes bench/RESULTS.md, bench/results.json and bench/charts/*.png from one bench/run.

Input: the run's RESULT objects (JSON lines, each tagged with its "section" by tag_results.py)
and the skipped sections (JSON lines {"section", "skipped"}). Every figure in the report comes
from those lines; the hand-written analysis in bench/ANALYSIS.md is appended as it is.

Usage: report.py --results FILE --notes FILE --root DIR --quick 0|1 --build-seconds N --run-seconds N
       report.py --from-json bench/results.json --root DIR   (re-renders a run, e.g. after editing ANALYSIS.md)
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import tempfile

KIB = 1024


# ---- inputs ---------------------------------------------------------------------------------------

def read_json_lines(path):
    rows = []
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            line = line.strip()
            if line:
                rows.append(json.loads(line))
    return rows


def command_output(args, cwd=None):
    try:
        return subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return ""


def machine(root):
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_bytes = 0
    with open("/proc/meminfo", encoding="utf-8") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                memory_bytes = int(line.split()[1]) * KIB
    with open("/proc/loadavg", encoding="utf-8") as loadavg:
        load = " ".join(loadavg.read().split()[:3])
    disk = command_output(["df", "-h", "--output=source,fstype,size,avail", "/tmp"]).splitlines()
    block = []
    for line in command_output(["lsblk", "-d", "-n", "-o", "NAME,SIZE,ROTA,TYPE"]).splitlines():
        fields = line.split()
        if len(fields) == 4 and fields[3] == "disk" and not fields[0].startswith(("zram", "loop")):
            block.append(f"{fields[0]} {fields[1]} ({'rotational' if fields[2] == '1' else 'not rotational'})")
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory_bytes": memory_bytes,
        "kernel": platform.release(),
        "disk": ("/tmp on " + " ".join(disk[1].split()[:3]) if len(disk) > 1 else "unknown") +
                (", block device " + ", ".join(block) if block else ""),
        "load_average_at_end": load,
        "os": command_output(["sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"]),
    }


def git_state(root):
    commit = command_output(["git", "rev-parse", "HEAD"], cwd=root)
    # The report's own outputs are left out: a run rewrites them before it is committed.
    dirty = command_output(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench/RESULTS.md",
                            ":!bench/results.json", ":!bench/charts"], cwd=root)
    branch = command_output(["git", "rev-parse", "--abbrev-ref", "HEAD"], cwd=root)
    return {"commit": commit, "branch": branch, "dirty": bool(dirty)}


# ---- selecting results ----------------------------------------------------------------------------

class Results:
    def __init__(self, rows):
        self.rows = rows

    def of(self, bench, **match):
        return [r for r in self.rows
                if r.get("bench") == bench and all(r.get(k, field_default(k)) == v for k, v in match.items())]

    def one(self, bench, **match):
        found = self.of(bench, **match)
        return found[-1] if found else None

    def best(self, bench, key, **match):
        found = [r for r in self.of(bench, **match) if key in r]
        return max(found, key=lambda r: r[key]) if found else None


def field_default(key):
    """What a field absent from older RESULT lines stood for."""
    return 1 if key == "in_flight" else None


def fmt_int(value):
    return "–" if value is None else f"{value:,.0f}"


def fmt_num(value, digits=1):
    return "–" if value is None else f"{value:,.{digits}f}"


def ratio_text(numerator, denominator):
    if not numerator or not denominator:
        return "–"
    return f"{numerator / denominator:,.1f}×"


# ---- targets ----------------------------------------------------------------------------------------

def targets(results, quick):
    """Each target: what, the goal, the measured value, and met / missed / not measured."""
    rows = []

    def add(name, goal, measured_text, met, note=""):
        state = "not measured" if met is None else ("met" if met else "**missed**")
        rows.append({"target": name, "goal": goal, "measured": measured_text, "state": state, "note": note})

    storage = results.one("log_append", batch=1000, sync=True) or results.one("log_append", batch=1000)
    add("Log appends vs raw RocksDB puts at batch 1,000 (issue 2)", "≥ 40% of raw keys/s",
        "–" if not storage else f"{100 * storage['ratio']:.0f}% ({storage['log_events_per_s']:,.0f} vs "
                                f"{storage['raw_keys_per_s']:,.0f}/s)",
        None if not storage else storage["ratio"] >= 0.40)

    # Rows of runs before --in-flight existed have no in_flight field: they were closed loops.
    create64 = results.one("engine", command="create", threads=64, in_flight=1)
    capture64 = results.one("engine", command="capture", threads=64, in_flight=1)
    create64_window = results.one("engine", command="create", threads=64, in_flight=8)
    capture64_window = results.one("engine", command="capture", threads=64, in_flight=8)
    add("Engine create booking at 64 threads, closed loop (issue 4)", "≥ 100,000 commands/s",
        fmt_int(create64 and create64["commands_per_s"]) + " commands/s",
        None if not create64 else create64["commands_per_s"] >= 100_000)
    add("Engine create booking at 64 threads, 8 in flight each (issue 4)", "≥ 100,000 commands/s",
        fmt_int(create64_window and create64_window["commands_per_s"]) + " commands/s",
        None if not create64_window else create64_window["commands_per_s"] >= 100_000)
    for name, row in (("create", create64), ("capture", capture64), ("create, 8 in flight", create64_window),
                      ("capture, 8 in flight", capture64_window)):
        add(f"Engine {name} vs raw RocksDB at the same batch, 64 threads (issue 4)", "≥ 35% of raw keys/s",
            "–" if not row else f"{100 * row['engine_over_raw']:.0f}% (batch {row['batch_commands_avg']:.0f}, "
                                f"raw {row['raw_keys_per_s']:,.0f} keys/s)",
            None if not row or not row.get("raw_keys_per_s") or row["engine_over_raw"] > 1
            else row["engine_over_raw"] >= 0.35,
            "raw came out slower than the engine: the disk was contended during its slices, so this run "
            "cannot judge the target" if row and row.get("engine_over_raw", 0) > 1 else "")

    for name, factor in (("create", 20), ("capture", 50)):
        engine = results.best("engine", "commands_per_s", command=name, in_flight=1)
        peer = results.best("postgres", "tps", command=name)
        measured = "–"
        met = None
        if engine and peer and peer["tps"] > 0:
            measured = (f"{engine['commands_per_s'] / peer['tps']:,.1f}× ({engine['commands_per_s']:,.0f} at "
                        f"{engine['threads']} threads vs {peer['tps']:,.0f} at {peer['clients']} clients)")
            met = engine["commands_per_s"] >= factor * peer["tps"]
        add(f"Engine {name} vs PostgreSQL peer (best of each)", f"≥ {factor}×", measured, met)

    post = results.one("http", endpoint="create")
    peer_create = results.best("postgres", "tps", command="create")
    measured = "–"
    met = None
    if post and peer_create and post["requests_per_s"] > 0 and peer_create["tps"] > 0:
        measured = f"{post['requests_per_s'] / peer_create['tps']:,.1f}× ({post['requests_per_s']:,.0f} vs {peer_create['tps']:,.0f}/s)"
        met = post["requests_per_s"] >= 5 * peer_create["tps"] and post["non_2xx"] == 0
    add("HTTP durable POST /api/bookings vs PostgreSQL create", "≥ 5×", measured, met)
    health = results.one("http", endpoint="healthz")
    if post and health and health["requests_per_s"] > 0:
        add("HTTP durable POST /api/bookings vs GET /healthz (issue 5)", "≥ 50%, p99 < 10 ms, no errors",
            f"{100 * post['requests_per_s'] / health['requests_per_s']:.0f}% ({post['requests_per_s']:,.0f} vs "
            f"{health['requests_per_s']:,.0f}/s), p99 {post['p99_ms']:.1f} ms, {post['non_2xx']} errors",
            post["requests_per_s"] >= 0.5 * health["requests_per_s"] and post["p99_ms"] < 10 and post["non_2xx"] == 0)
    else:
        add("HTTP durable POST /api/bookings vs GET /healthz (issue 5)", "≥ 50%, p99 < 10 ms, no errors", "–", None)

    replay = results.best("replay", "events")
    if replay:
        slowest = min(replay["verify_events_per_s"], replay["rebuild_events_per_s"])
        add(f"Replay (verify and rebuild) at {replay['events']:,} events", "≥ 1,000,000 events/s",
            f"verify {replay['verify_events_per_s']:,.0f}/s, rebuild {replay['rebuild_events_per_s']:,.0f}/s",
            slowest >= 1_000_000)
        add(f"Replay vs a plain sequential scan at {replay['events']:,} events (issue 6)", "≥ 40% of the scan",
            f"verify {100 * replay['verify_vs_plain']:.0f}%, rebuild {100 * replay['rebuild_vs_plain']:.0f}% of "
            f"{replay['plain_scan_events_per_s']:,.0f}/s",
            min(replay["verify_vs_plain"], replay["rebuild_vs_plain"]) >= 0.40)
    else:
        add("Replay (verify and rebuild)", "≥ 1,000,000 events/s", "–", None)

    recovery = results.best("recovery", "events")
    if recovery:
        at_10m = recovery["events"] >= 10_000_000
        add(f"Recovery with a checkpoint at {recovery['events']:,} events", "< 5 s at 10M events",
            f"{recovery['open_with_checkpoint_seconds']:.2f} s",
            (recovery["open_with_checkpoint_seconds"] < 5) if at_10m else None,
            "" if at_10m else "10M events only in the full run")
    else:
        add("Recovery with a checkpoint", "< 5 s at 10M events", "–", None)

    wheel = results.best("timing_wheel", "timers")
    add("Timing wheel vs binary heap" + (f" at {wheel['timers']:,} timers" if wheel else ""), "≥ 3× faster",
        f"{wheel['heap_over_wheel']:.1f}×" if wheel else "–", None if not wheel else wheel["heap_over_wheel"] >= 3)
    add("Timing wheel memory per pending timer (issue 4)", "< 64 bytes",
        f"{wheel['wheel_bytes_per_pending_timer']:.1f} bytes (RSS {wheel['wheel_rss_bytes_per_pending_timer']:.1f})"
        if wheel else "–", None if not wheel else wheel["wheel_bytes_per_pending_timer"] < 64)

    lateness = results.of("release_lateness")
    if lateness:
        worst = max(lateness, key=lambda r: r["p99_ms"])
        add("Escrow release lateness p99 (real clock)", "< 1 s",
            ", ".join(f"{r['case']} {r['p99_ms']:.0f} ms" for r in lateness), worst["p99_ms"] < 1000)
    else:
        add("Escrow release lateness p99", "< 1 s", "–", None)

    memory = results.best("memory", "bookings")
    add("Memory per booking" + (f" at {memory['bookings']:,} bookings" if memory else ""), "< 1 KiB",
        f"{memory['bytes_per_booking']:,.0f} bytes" if memory else "–",
        None if not memory else memory["bytes_per_booking"] < KIB,
        "" if not memory or memory["bookings"] >= 1_000_000 else "the target is stated at 1M bookings (full run)")
    return rows


# ---- charts ----------------------------------------------------------------------------------------

def gnuplot(script, data_files, out_png, tmp):
    for name, text in data_files.items():
        with open(os.path.join(tmp, name), "w", encoding="utf-8") as data:
            data.write(text)
    with open(os.path.join(tmp, "plot.gp"), "w", encoding="utf-8") as gp:
        gp.write(f'set terminal pngcairo size 900,480 font "DejaVu Sans,10"\nset output "{out_png}"\n')
        gp.write("set style data histograms\nset style histogram clustered gap 1\nset style fill solid 0.85 border -1\n")
        gp.write("set boxwidth 0.9\nset grid ytics\nset key top left\nset xtics nomirror\n")
        gp.write(script)
    completed = subprocess.run(["gnuplot", "plot.gp"], cwd=tmp, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        print(f"report: gnuplot failed for {out_png}: {completed.stderr[:500]}")
        return False
    return True


def charts(results, charts_dir):
    made = {}
    if not shutil.which("gnuplot"):
        return made
    os.makedirs(charts_dir, exist_ok=True)
    for stale in os.listdir(charts_dir):
        if stale.endswith(".png"):
            os.remove(os.path.join(charts_dir, stale))
    with tempfile.TemporaryDirectory() as tmp:
        # Engine vs PostgreSQL, commands/s by concurrency.
        levels = [(1, 1), (8, 8), (64, 32)]
        lines = []
        for threads, clients in levels:
            values = []
            for command in ("create", "capture"):
                engine = results.one("engine", command=command, threads=threads, in_flight=1)
                peer = results.one("postgres", command=command, clients=clients)
                values += [engine["commands_per_s"] if engine else 0, peer["tps"] if peer else 0]
            lines.append(f'"{threads} thr / {clients} cl" ' + " ".join(f"{v:.0f}" for v in values))
        if results.of("engine"):
            path = os.path.join(charts_dir, "engine_vs_postgres.png")
            if gnuplot('set title "Durable commands/s: engine (threads) vs PostgreSQL 15 (clients)"\n'
                       'set logscale y\nset ylabel "commands/s (log scale)"\nset yrange [1:*]\n'
                       'plot "tp.dat" using 2:xtic(1) title "engine create", "" using 3 title "PostgreSQL create", '
                       '"" using 4 title "engine capture", "" using 5 title "PostgreSQL capture"\n',
                       {"tp.dat": "\n".join(lines) + "\n"}, path, tmp):
                made["engine_vs_postgres"] = "charts/engine_vs_postgres.png"

            lines = []
            for command in ("create", "capture"):
                for threads in (1, 8, 64):
                    row = results.one("engine", command=command, threads=threads, in_flight=1)
                    if row:
                        lines.append(f'"{command} {threads}" {row["p50_us"] / 1000:.3f} {row["p99_us"] / 1000:.3f} '
                                     f'{row["p999_us"] / 1000:.3f}')
            path = os.path.join(charts_dir, "engine_latency.png")
            if gnuplot('set title "Engine latency, submit to durable reply (command, threads)"\n'
                       'set logscale y\nset ylabel "milliseconds (log scale)"\n'
                       'plot "lat.dat" using 2:xtic(1) title "p50", "" using 3 title "p99", "" using 4 title "p99.9"\n',
                       {"lat.dat": "\n".join(lines) + "\n"}, path, tmp):
                made["engine_latency"] = "charts/engine_latency.png"

        storage = results.of("log_append")
        if storage:
            lines = [f'"batch {r["batch"]}" {r["raw_keys_per_s"]:.0f} {r["log_events_per_s"]:.0f}' for r in storage]
            path = os.path.join(charts_dir, "storage.png")
            if gnuplot('set title "Synced appends/s: raw RocksDB WriteBatch vs the event log"\n'
                       'set logscale y\nset ylabel "keys or events per second (log scale)"\n'
                       'plot "st.dat" using 2:xtic(1) title "raw RocksDB keys/s", "" using 3 title "log events/s"\n',
                       {"st.dat": "\n".join(lines) + "\n"}, path, tmp):
                made["storage"] = "charts/storage.png"

        wheel = results.of("timing_wheel")
        if wheel:
            lines = [f'"{r["timers"] / 1e6:g}M timers" {r["wheel_total_ms"]:.1f} {r["heap_total_ms"]:.1f}' for r in wheel]
            path = os.path.join(charts_dir, "timers.png")
            if gnuplot('set title "Schedule, cancel half, expire the rest: total time"\n'
                       'set ylabel "milliseconds"\nset yrange [0:*]\n'
                       'plot "tw.dat" using 2:xtic(1) title "timing wheel", "" using 3 title "binary heap"\n',
                       {"tw.dat": "\n".join(lines) + "\n"}, path, tmp):
                made["timers"] = "charts/timers.png"

        recovery = results.of("recovery")
        if recovery:
            lines = [f'"{r["events"] / 1e6:g}M events" {r["open_without_checkpoint_seconds"]:.3f} '
                     f'{r["open_with_checkpoint_seconds"]:.3f}' for r in recovery]
            path = os.path.join(charts_dir, "recovery.png")
            if gnuplot('set title "Engine::open: start-up time"\nset ylabel "seconds"\nset yrange [0:*]\n'
                       'plot "rc.dat" using 2:xtic(1) title "no checkpoint (full replay)", '
                       '"" using 3 title "with a checkpoint"\n',
                       {"rc.dat": "\n".join(lines) + "\n"}, path, tmp):
                made["recovery"] = "charts/recovery.png"

        http = results.of("http")
        if http:
            lines = [f'"{r["endpoint"]}" {r["requests_per_s"]:.0f}' for r in http]
            peer = results.best("postgres", "tps", command="create")
            if peer:
                lines.append(f'"PostgreSQL create" {peer["tps"]:.0f}')
            path = os.path.join(charts_dir, "http.png")
            if gnuplot('set title "HTTP requests/s, 64 connections (wrk, loopback)"\nset logscale y\n'
                       'set ylabel "requests/s (log scale)"\nset yrange [1:*]\n'
                       'plot "ht.dat" using 2:xtic(1) title "requests/s"\n',
                       {"ht.dat": "\n".join(lines) + "\n"}, path, tmp):
                made["http"] = "charts/http.png"
    return made


# ---- the markdown ------------------------------------------------------------------------------------

def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(out) + "\n"


def skipped_text(notes, section):
    reasons = [n["skipped"] for n in notes if n["section"] == section]
    return "".join(f"\n*Skipped: {reason}*\n" for reason in reasons)


def chart_link(made, key, alt):
    return f"\n![{alt}]({made[key]})\n" if key in made else ""


def markdown(results, notes, meta, target_rows, made, analysis):
    m = meta["machine"]
    md = ["# tutorledger benchmark results\n\n",
          f"Written by `bench/run{' --quick' if meta['quick'] else ''}` on {meta['date']} from commit "
          f"`{meta['git']['commit'][:12]}`{' (with uncommitted changes)' if meta['git']['dirty'] else ''} "
          f"(branch `{meta['git']['branch']}`). Build {meta['build_seconds']} s, benchmarks {meta['run_seconds']} s.\n\n",
          f"**Machine:** {m['cores']} cores, {m['cpu']}, {m['memory_bytes'] / 2**30:.1f} GiB, {m['os']}, "
          f"kernel {m['kernel']}; disk: {m['disk']}.\n\n",
          f"**Load average** at the end of the run: {m['load_average_at_end']} (each section prints the load it "
          "started under). Where it is above the core count the machine was shared with other work and the "
          "figures are lower and noisier than on an idle machine.\n"]
    if meta["quick"]:
        md.append("\n*This is a `--quick` run: small sizes and short durations. Run `bench/run` for the full sizes.*\n")

    md.append("\n## Targets\n\n")
    md.append(table(["target", "goal", "measured", "state", "note"],
                    [[t["target"], t["goal"], t["measured"], t["state"], t["note"]] for t in target_rows]))

    # 1. storage
    md.append("\n## 1. Storage limit: raw RocksDB vs the log's appends\n\n"
              "Synced WriteBatches (one fsync each) of raw 300-byte values vs `LogStore::append` of realistic events "
              "(hash chain, stream index keys, metadata), same RocksDB tuning, alternating rounds. Raw values "
              "compress to about half, like db_bench's defaults; each round ends when its database has no flush or "
              "compaction running or due, and that wait counts in its time.\n\n")
    storage = results.of("log_append")
    if storage:
        md.append(table(["batch", "raw keys/s", "log events/s", "log / raw", "log-shaped raw items/s", "log / shaped"],
                        [[r["batch"], fmt_int(r["raw_keys_per_s"]), fmt_int(r["log_events_per_s"]),
                          f"{r['ratio']:.2f}", fmt_int(r.get("log_shaped_raw_items_per_s")),
                          fmt_num(r.get("ratio_to_log_shaped"), 2)] for r in storage]))
    md.append(skipped_text(notes, "storage") + chart_link(made, "storage", "storage"))

    # 2. engine
    md.append("\n## 2. The engine: durable commands/s and latency\n\n"
              "Closed loop (in flight 1): each thread submits one command and waits for its durable reply; with 8 "
              "in flight, each thread keeps up to 8 commands awaiting replies, as an HTTP I/O thread does with its "
              "connections. `create` = "
              "RequestBooking with a new id (1 event); `capture` = CapturePayment of a prepared booking (2 events, "
              "debits the shared `external:psp` account). Raw = synced RocksDB WriteBatches at the engine's average "
              "batch size with values of the bytes one command appends (compressible to about half, like db_bench's), "
              "alternating with the engine in slices; each slice ends when its database's flushes and compactions are "
              "done, and that wait counts in its time.\n\n")
    engine_rows = results.of("engine")
    if engine_rows:
        md.append(table(["command", "threads", "in flight", "commands/s", "p50 ms", "p99 ms", "p99.9 ms", "avg batch",
                         "raw keys/s at that batch", "engine / raw"],
                        [[r["command"], r["threads"], r.get("in_flight", field_default("in_flight")), fmt_int(r["commands_per_s"]),
                          fmt_num(r["p50_us"] / 1000, 2),
                          fmt_num(r["p99_us"] / 1000, 2), fmt_num(r["p999_us"] / 1000, 2),
                          fmt_num(r["batch_commands_avg"]), fmt_int(r["raw_keys_per_s"]),
                          f"{100 * r['engine_over_raw']:.0f}%"] for r in engine_rows]))
    md.append(skipped_text(notes, "engine") + chart_link(made, "engine_latency", "engine latency"))

    # 3. PostgreSQL
    md.append("\n## 3. The peer: PostgreSQL 15 with the same two commands\n\n"
              "A throw-away PostgreSQL (`synchronous_commit=on`, `fsync=on`) on loopback; `events` (global bigserial "
              "position, unique (stream, version)), `streams` (expected versions), `balances` (one hot row: "
              "`external:psp`). pgbench scripts: `bench/postgres/*.sql`. Engine threads and PostgreSQL clients side "
              "by side.\n\n")
    peer_rows = []
    for command in ("create", "capture"):
        for (threads, clients) in ((1, 1), (8, 8), (64, 32)):
            engine = results.one("engine", command=command, threads=threads, in_flight=1)
            peer = results.one("postgres", command=command, clients=clients)
            if not engine and not peer:
                continue
            peer_rows.append([command, f"{threads} / {clients}", fmt_int(engine and engine["commands_per_s"]),
                              fmt_int(peer and peer["tps"]),
                              ratio_text(engine and engine["commands_per_s"], peer and peer["tps"]),
                              fmt_num(peer and peer["p50_ms"], 2), fmt_num(peer and peer["p99_ms"], 2),
                              fmt_int(peer and peer["failed"])])
    if peer_rows:
        md.append(table(["command", "engine threads / PG clients", "engine commands/s", "PostgreSQL tx/s",
                         "engine / PG", "PG p50 ms", "PG p99 ms", "PG failed"], peer_rows))
    md.append(skipped_text(notes, "postgres") + chart_link(made, "engine_vs_postgres", "engine vs PostgreSQL"))

    # 4. HTTP
    md.append("\n## 4. HTTP (wrk, loopback, 64 connections)\n\n")
    http = results.of("http")
    if http:
        peer = results.best("postgres", "tps", command="create")
        md.append(table(["endpoint", "requests/s", "p50 ms", "p99 ms", "non-2xx", "socket errors", "vs PostgreSQL create"],
                        [[r["endpoint"], fmt_int(r["requests_per_s"]), fmt_num(r["p50_ms"], 2), fmt_num(r["p99_ms"], 2),
                          r["non_2xx"], r["socket_errors"],
                          ratio_text(r["requests_per_s"], peer and peer["tps"]) if r["endpoint"] == "create" else ""]
                         for r in http]))
    server_side = results.one("http_server_side", endpoint="create")
    if server_side:
        md.append(server_side_text(server_side))
    md.append(skipped_text(notes, "http") + chart_link(made, "http", "HTTP"))

    # 5. replay
    md.append("\n## 5. Replay: verify and rebuild vs a plain scan\n\n")
    replay = results.of("replay")
    if replay:
        md.append(table(["events", "plain scan events/s", "verify events/s", "rebuild events/s", "verify / plain",
                         "rebuild / plain", "verify clean", "rebuild equal"],
                        [[fmt_int(r["events"]), fmt_int(r["plain_scan_events_per_s"]), fmt_int(r["verify_events_per_s"]),
                          fmt_int(r["rebuild_events_per_s"]), f"{r['verify_vs_plain']:.2f}", f"{r['rebuild_vs_plain']:.2f}",
                          r["verify_clean"], r["rebuild_equal"]] for r in replay]))
    md.append(skipped_text(notes, "replay"))

    # 6. recovery
    md.append("\n## 6. Recovery: Engine::open with and without a checkpoint\n\n"
              "Logs of whole booking journeys written through the engine; the same log opened without a checkpoint "
              "(every event decoded, hash-checked and applied) and with one. Warm page cache.\n\n")
    recovery = results.of("recovery")
    if recovery:
        md.append(table(["events", "bookings", "log MB", "open, no checkpoint s", "replay events/s",
                         "open, with checkpoint s", "checkpoint write s"],
                        [[fmt_int(r["events"]), fmt_int(r["bookings"]), fmt_int(r["log_bytes"] / 1e6),
                          fmt_num(r["open_without_checkpoint_seconds"], 2), fmt_int(r["replay_events_per_s"]),
                          fmt_num(r["open_with_checkpoint_seconds"], 2), fmt_num(r["checkpoint_write_seconds"], 2)]
                         for r in recovery]))
    md.append(skipped_text(notes, "recovery") + chart_link(made, "recovery", "recovery"))

    # 7. timers
    md.append("\n## 7. Timers: timing wheel vs binary heap, and release lateness\n\n")
    wheel = results.of("timing_wheel")
    if wheel:
        md.append(table(["timers", "wheel total ms", "heap total ms", "heap / wheel", "wheel ns/schedule",
                         "heap ns/schedule", "wheel bytes/timer", "same fire order"],
                        [[fmt_int(r["timers"]), fmt_num(r["wheel_total_ms"]), fmt_num(r["heap_total_ms"]),
                          f"{r['heap_over_wheel']:.2f}×", fmt_num(r["wheel_schedule_ns_per_timer"]),
                          fmt_num(r["heap_schedule_ns_per_timer"]), fmt_num(r["wheel_bytes_per_pending_timer"]),
                          r["same_fire_order"]] for r in wheel]))
    lateness = results.of("release_lateness")
    if lateness:
        md.append("\nEscrow releases through a real engine (SystemClock, hold shortened to "
                  f"{lateness[0]['hold_ms']} ms), lateness = `at` of EscrowReleased − its `release_at`:\n\n")
        rows = [[r["case"], fmt_int(r["releases"]), fmt_int(r["p50_ms"]), fmt_int(r["p99_ms"]), fmt_int(r["max_ms"]),
                 fmt_int(r["load_commands_per_s"]) if r["load_commands_per_s"] else "–"] for r in lateness]
        rows.append(["seed design: hourly cron (by construction)", "–", "1,800,000 (30 min)", "3,564,000 (59.4 min)",
                     "3,600,000", "–"])
        md.append(table(["engine", "releases", "p50 ms", "p99 ms", "max ms", "other commands/s meanwhile"], rows))
    md.append(skipped_text(notes, "timers") + chart_link(made, "timers", "timers"))

    # 8. memory
    md.append("\n## 8. Memory per booking\n\n")
    for r in results.of("memory"):
        md.append(f"{r['bookings']:,} completed bookings ({r['events']:,} events) through the domain core: resident "
                  f"set {r['rss_before_bytes'] / 1e6:,.1f} MB → {r['rss_after_bytes'] / 1e6:,.1f} MB, "
                  f"**{r['bytes_per_booking']:,.0f} bytes per booking** "
                  f"({r['bytes_per_booking_before_trim']:,.0f} before `malloc_trim`); `sizeof(Booking)` = "
                  f"{r['sizeof_booking']} bytes.\n")
        if "notification_bytes_per_booking" in r:
            md.append(f"\nCounted from the structures (element storage only, a lower bound): the `Booking` struct "
                      f"{r['booking_struct_bytes_per_booking']:,.0f} B, its heap strings "
                      f"{r['booking_string_bytes_per_booking']:,.0f} B, {r['notifications_per_booking']:.1f} notifications "
                      f"{r['notification_bytes_per_booking']:,.0f} B (vector capacities), user indexes "
                      f"{r['user_index_bytes_per_booking']:,.0f} B; the rest is the booking id index, the flat maps' "
                      f"entries and slots ({r['payments']:,} payment records, {r['accounts_with_balance']:,} accounts with a "
                      "balance, users) and allocator overhead.\n")
    md.append(skipped_text(notes, "memory"))

    # 9. NATS
    md.append("\n## 9. NATS publishing and replica lag\n\n"
              "`tutorledger serve` under POST /api/bookings load (keep-alive connections from the benchmark's own "
              "threads, loopback), without NATS, then publishing to a 1-node JetStream (stream replicas 1) and to a "
              "3-node JetStream cluster (stream replicas 3), with a read replica (an engine with `replica = true` "
              "and a `NatsFollower`, in the benchmark's process) following the stream. Everything on this one "
              "machine: the load, the primary, the NATS nodes and the replica share its cores. *published/s*: "
              "events JetStream acknowledged per second during the load; *lag at end*: log head − published when "
              "the load stopped; *during load*: log head − published, and log head − the replica's head, sampled every "
              "50 ms; *catch-up*: ms after the load until the stream / the replica held every event.\n\n")
    nats = results.of("nats")
    if nats:
        def nats_cell(r, key, digits=None):
            if key not in r:
                return "–"
            return fmt_int(r[key]) if digits is None else fmt_num(r[key], digits)
        def mean_max(r, prefix):
            if prefix + "_mean" not in r:
                return "–"
            return f"{fmt_int(r[prefix + '_mean'])} / {fmt_int(r[prefix + '_max'])}"
        md.append(table(["configuration", "connections", "POST/s", "vs no NATS", "HTTP p50 ms", "HTTP p99 ms", "events/s",
                         "published/s", "publish lag during load, mean / max (events)", "lag at end (events)",
                         "publish catch-up ms", "replica behind during load, mean / max (events)", "replica lag p50 ms",
                         "replica lag p99 ms", "replica lag max ms", "replica catch-up ms"],
                        [[r["configuration"], r["connections"], fmt_int(r["posts_per_s"]),
                          f"{r['post_ratio_to_no_nats']:.2f}", fmt_num(r["http_p50_ms"], 2),
                          fmt_num(r["http_p99_ms"], 2), fmt_int(r["events_per_s"]), nats_cell(r, "published_per_s"),
                          mean_max(r, "publish_lag_events"), nats_cell(r, "publish_lag_events_at_end"),
                          nats_cell(r, "publish_catch_up_ms"), mean_max(r, "replica_lag_events"),
                          nats_cell(r, "replica_lag_p50_ms", 1), nats_cell(r, "replica_lag_p99_ms", 1),
                          nats_cell(r, "replica_lag_max_ms", 1), nats_cell(r, "replica_catch_up_ms")] for r in nats]))
        definition = next((r["replica_lag_definition"] for r in nats if "replica_lag_definition" in r), None)
        if definition:
            wait = next((r["replica_fetch_wait_ms"] for r in nats if "replica_fetch_wait_ms" in r), None)
            md.append(f"\nReplica lag, per event: {definition}"
                      + (f"; the replica's fetches wait up to {wait} ms for a full batch" if wait else "") + ".\n")
        md.append(f"\nLoad average when the benchmark started: {nats[0]['load_average']}.\n")
    elif not skipped_text(notes, "nats"):
        md.append("*Not measured in this run (it predates the section).*\n")
    md.append(skipped_text(notes, "nats"))

    # other
    other = results.of("crypto") + results.of("http_server")
    if other or skipped_text(notes, "other"):
        md.append("\n## Other benchmarks\n\n")
        for r in results.of("crypto"):
            md.append(table(["crypto case", "ops/s", "µs/op"],
                            [[c["name"], fmt_int(c["ops_per_s"]), fmt_num(c["us_per_op"], 2)] for c in r["cases"]]))
        for r in results.of("http_server"):
            md.append("\nBare HTTP plumbing (`http_server_bench`, GET /healthz on tl::Server): " +
                      ", ".join(f"{k} {v}" for k, v in r.items() if k not in ("bench", "section", "cpu")) + "\n")
        md.append(skipped_text(notes, "other"))

    if analysis:
        md.append("\n---\n\n" + analysis)
    return "".join(md)


def server_side_text(r):
    """The POST run as the server measured it (its /metrics before and after the run)."""
    def at_most(value):
        return "above the last bucket" if value is None else f"≤ {fmt_num(value, 2)} ms"
    return ("\nThe create run as the server saw it (`/metrics` before and after): requests from arrival to "
            f"response end p50 {at_most(r['server_p50_ms_at_most'])}, p99 {at_most(r['server_p99_ms_at_most'])} "
            f"({fmt_int(r['server_requests'])} requests); {fmt_int(r['writes'])} durable writes (WriteBatch + "
            f"fsync), average batch {fmt_num(r['batch_avg'], 1)}, write mean {fmt_num(r['write_mean_ms'], 2)} ms, "
            f"p50 {at_most(r['write_p50_ms_at_most'])}, p99 {at_most(r['write_p99_ms_at_most'])}, "
            f"p99.9 {at_most(r['write_p999_ms_at_most'])}; {r['writes_over_10ms']} writes took over 10 ms. "
            "Quantiles are histogram bucket bounds.\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--results")
    parser.add_argument("--notes")
    parser.add_argument("--from-json")
    parser.add_argument("--root", required=True)
    parser.add_argument("--quick", type=int, default=0)
    parser.add_argument("--build-seconds", type=int, default=0)
    parser.add_argument("--run-seconds", type=int, default=0)
    args = parser.parse_args()

    args.root = os.path.abspath(args.root)  # gnuplot runs in a scratch folder
    bench_dir = os.path.join(args.root, "bench")
    if args.from_json:
        with open(args.from_json, encoding="utf-8") as previous:
            stored = json.load(previous)
        results = Results(stored["results"])
        notes = stored["skipped"]
        meta = {key: stored[key] for key in ("date", "quick", "git", "machine", "build_seconds", "run_seconds")}
    else:
        if not args.results or not args.notes:
            parser.error("--results and --notes are required without --from-json")
        results = Results(read_json_lines(args.results))
        notes = read_json_lines(args.notes)
        meta = {
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "quick": bool(args.quick),
            "git": git_state(args.root),
            "machine": machine(args.root),
            "build_seconds": args.build_seconds,
            "run_seconds": args.run_seconds,
        }
    target_rows = targets(results, args.quick)
    made = charts(results, os.path.join(bench_dir, "charts"))
    analysis_path = os.path.join(bench_dir, "ANALYSIS.md")
    analysis = open(analysis_path, encoding="utf-8").read() if os.path.exists(analysis_path) else ""

    with open(os.path.join(bench_dir, "results.json"), "w", encoding="utf-8") as out:
        json.dump({**meta, "targets": target_rows, "charts": made, "skipped": notes, "results": results.rows}, out,
                  indent=1)
        out.write("\n")
    with open(os.path.join(bench_dir, "RESULTS.md"), "w", encoding="utf-8") as out:
        out.write(markdown(results, notes, meta, target_rows, made, analysis))
    for row in target_rows:
        print(f"  {row['state']:>12}  {row['target']}: {row['measured']} (goal {row['goal']})")


if __name__ == "__main__":
    main()
