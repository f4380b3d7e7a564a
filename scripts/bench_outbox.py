#!/usr/bin/env python3
"""The notification benchmark of issue #18: `python3 scripts/bench_outbox.py`.

For each database it seeds a church (`intercede seed`), makes a team of 200, and measures:

1. enqueueing: `POST /prayer-requests/{id}/updates` on a request the team of 200 carries (each
   update tells its news as one `outbox_news` row, which a worker addresses later as 400 outbox
   rows: in-app and email for every member) against the same call on a request nobody follows,
   sequentially, with the workers off. Target: at most 2x.
2. draining: the 10,000 email notifications that left queued go to a real SMTP server on
   loopback (aiosmtpd, from PyPI), with the workers on (addressing the news first). Target: 200 per second or more. While
   they drain, wrk reads `GET /prayer-requests/{id}` at 64 connections. Target: p99 under 25 ms.
   The server's peak RSS through it. Target: under 100 MB.

It uses scripts/bench.py's helpers (wrk, the dist build, RSS) and reports each target with PASS or
MISS. See docs/benchmarks.md.
"""

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import json
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402

UPDATES = 50
TEAM = 200


def ensure_aiosmtpd():
    try:
        import aiosmtpd  # noqa: F401
    except ImportError:
        bench.log("installing aiosmtpd from PyPI")
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "aiosmtpd"], check=True)


class Sink:
    """A real SMTP server on loopback that counts what it receives."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.count = 0
        self.lock = threading.Lock()
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                with sink.lock:
                    sink.count += 1
                return "250 OK"

        self.port = bench.free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        self.controller.stop()


def service(url, workdir, label, env_extra):
    port = bench.free_port()
    env = dict(
        os.environ,
        DATABASE_URL=url,
        BIND_ADDR=f"127.0.0.1:{port}",
        JWT_SECRET="bench-secret-bench-secret-bench-secret-0123",
        LOGIN_ATTEMPTS_PER_MINUTE="1000000",
        LOG_FORMAT="json",
        RUST_LOG="warn",
        **env_extra,
    )
    logfile = open(Path(workdir) / f"outbox-{label}.log", "w")
    proc = subprocess.Popen([bench.INTERCEDE, "serve"], env=env, stdout=logfile, stderr=logfile)
    bench.wait_until_answering(port, proc)
    return proc, port


def stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=40)
    except subprocess.TimeoutExpired:
        proc.kill()


def owed_emails(kind, url):
    """Emails not yet sent (read from the database itself): email rows pending or in hand, and
    the members of news told on the email channel that no worker has addressed yet."""
    members = "json_array_length(members)" if kind == "sqlite" else "json_array_length(members::json)"
    sql = (
        "SELECT (SELECT count(*) FROM outbox WHERE channel = 'email' AND state IN ('pending', 'sending'))"
        f" + (SELECT coalesce(sum({members}), 0) FROM outbox_news WHERE channels LIKE '%\"email\"%')"
    )
    if kind == "sqlite":
        with sqlite3.connect(url.removeprefix("sqlite://"), timeout=30) as c:
            return c.execute(sql).fetchone()[0]
    out = subprocess.run(["psql", url, "-At", "-c", sql], capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


def timed_updates(api, token, request_id, n):
    times = []
    for i in range(n):
        started = time.perf_counter()
        api.call("POST", f"/prayer-requests/{request_id}/updates", {"body": f"Update {i}"}, token=token)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def run_one(kind, args, workdir, sink):
    bench.log(f"{kind}: seeding")
    url, _ = bench.prepare_database(kind, args.scale, args, workdir)
    smtp = {"SMTP_URL": f"smtp://127.0.0.1:{sink.port}", "MAIL_FROM": "Bench <bench@example.org>"}
    proc, port = service(url, workdir, f"{kind}-enqueue", dict(smtp, WORKERS_ENABLED="false"))
    try:
        api = bench.Api(port)
        leader = api.login("m1@seed.example")
        team = api.call("POST", "/teams", {"name": f"Bench team {time.time()}"}, token=leader)["id"]
        members, cursor = [], None
        while len(members) < TEAM:
            page = api.call("GET", "/members?limit=100" + (f"&cursor={cursor}" if cursor else ""), token=leader)
            members += [m["id"] for m in page["items"] if m["role"] == "member"]
            cursor = page["next_cursor"]
            if not cursor:
                break
        if len(members) < TEAM:
            raise SystemExit(f"the seeded church has only {len(members)} members: raise --scale")
        for m in members[:TEAM]:
            api.call("PUT", f"/teams/{team}/members/{m}", {"team_role": "member"}, token=leader)
        followed = api.call("POST", "/prayer-requests", {"title": "Followed", "body": "b", "category": "other", "kind": "prayer", "visibility": "congregation"}, token=leader)["id"]
        api.call("POST", f"/prayer-requests/{followed}/assignments", {"team_id": team}, token=leader)
        alone = api.call("POST", "/prayer-requests", {"title": "Alone", "body": "b", "category": "other", "kind": "prayer", "visibility": "congregation"}, token=leader)["id"]
        bench.log(f"{kind}: {UPDATES} updates each, alone and followed by {TEAM}")
        quiet_ms = timed_updates(api, leader, alone, UPDATES)
        loud_ms = timed_updates(api, leader, followed, UPDATES)
        # The floor, in this run: the same read at the same connections with nothing draining
        # (workers off), so the p99 while draining is read against what this machine gives.
        reader = api.login(bench.MEMBER)
        page = api.call("GET", "/prayer-requests?limit=1&sort=newest", token=reader)
        read_path = f"/api/v1/prayer-requests/{page['items'][0]['id']}"
        bench.wrk(port, [read_path], args, token=reader, connections=args.connections, duration=3)
        idle = bench.wrk(port, [read_path], args, token=reader, connections=args.connections, duration=args.duration)
    finally:
        stop(proc)
    queued = owed_emails(kind, url)
    bench.log(f"{kind}: {queued} emails queued; draining")
    before = sink.count
    proc, port = service(url, workdir, f"{kind}-drain", smtp)
    try:
        started = time.time()
        bench.reset_peak_rss(proc.pid)
        api = bench.Api(port)
        reader = api.login(bench.MEMBER)
        page = api.call("GET", "/prayer-requests?limit=1&sort=newest", token=reader)
        read_path = f"/api/v1/prayer-requests/{page['items'][0]['id']}"
        during = bench.wrk(port, [read_path], args, token=reader, connections=args.connections, duration=args.duration)
        while owed_emails(kind, url) > 0 and time.time() - started < 600:
            time.sleep(0.2)
        elapsed = time.time() - started
        rss = bench.peak_rss_kib(proc.pid) / 1024
    finally:
        stop(proc)
    delivered = sink.count - before
    return {
        "enqueue_alone_ms": quiet_ms,
        "enqueue_team_ms": loud_ms,
        "queued": queued,
        "delivered": delivered,
        "drain_per_s": delivered / elapsed if elapsed else 0,
        "read_p99_ms": during["p99_us"] / 1000,
        "read_rps": during["rps"],
        "idle_read_p99_ms": idle["p99_us"] / 1000,
        "idle_read_rps": idle["rps"],
        "rss_mib": rss,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--databases", default="sqlite,postgres")
    p.add_argument("--scale", type=int, default=30000, help="requests seeded (members: a hundredth)")
    p.add_argument("--duration", type=int, default=10, help="seconds of reads while draining")
    p.add_argument("--threads", type=int, default=2, help="wrk threads")
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432"))
    p.add_argument("--workdir", default=str(bench.ROOT / "target" / "bench"))
    p.add_argument("--no-build", action="store_true")
    p.add_argument("--intercede", help="measure this service binary instead of target/dist/intercede")
    args = p.parse_args()
    if args.intercede:
        bench.INTERCEDE = Path(args.intercede).resolve()
    elif not args.no_build:
        bench.run(["cargo", "build", "--profile", "dist", "--bin", "intercede"], cwd=bench.ROOT)
    Path(args.workdir).mkdir(parents=True, exist_ok=True)
    bench.ensure_wrk()
    ensure_aiosmtpd()
    sink = Sink()
    try:
        results = {kind: run_one(kind, args, Path(args.workdir), sink) for kind in args.databases.split(",")}
    finally:
        sink.stop()
    print(json.dumps(results, indent=2))
    misses = 0
    for kind, r in results.items():
        ratio = r["enqueue_team_ms"] / r["enqueue_alone_ms"]
        checks = [
            (f"update enqueueing for {TEAM}: {r['enqueue_team_ms']:.2f} ms vs {r['enqueue_alone_ms']:.2f} ms alone ({ratio:.2f}x, at most 2x)", ratio <= 2.0),
            (f"drain: {r['delivered']} of {r['queued']} emails at {r['drain_per_s']:.0f}/s (at least 200/s)", r["drain_per_s"] >= 200 and r["delivered"] >= r["queued"]),
            (f"GET by id while draining: p99 {r['read_p99_ms']:.1f} ms at {r['read_rps']:.0f} req/s (under 25 ms)", r["read_p99_ms"] < 25),
            (f"(context) the same read with nothing draining, this run: p99 {r['idle_read_p99_ms']:.1f} ms at {r['idle_read_rps']:.0f} req/s", None),
            (f"peak RSS while draining: {r['rss_mib']:.1f} MiB (under 100)", r["rss_mib"] < 100),
        ]
        for text, ok in checks:
            if ok is None:
                print(f"{kind}: {text}")
                continue
            misses += not ok
            print(f"{kind}: {'PASS' if ok else 'MISS'} {text}")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
