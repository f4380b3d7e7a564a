#!/usr/bin/env python3
"""Two or more builds of the service, alternated on one seeded database: `python3 scripts/ab.py`.

    python3 scripts/ab.py --database postgres \\
        --variant before=/tmp/intercede-before --variant after=target/release/intercede \\
        --only by_id,by_id_leader --rounds 2

Each variant is `name=BINARY[:KEY=VALUE,...]`: the environment after the colon reaches that
service only (`URL=...` replaces the database URL, e.g. to go through pgbouncer). The database
is seeded once (by the first variant's binary); then, round after round, each variant is started
on it in turn and every endpoint is measured with wrk (3 s warm-up, `--duration` measured), so
that the machine's drift falls on every variant alike. The notification workers are off unless
`--workers`: the seed makes every assignment overdue at once, and the nudges it owes would drain
during the runs. With `--workers --fresh` (SQLite) each service starts on a copy of the seeded
file, so every variant meets the same backlog. Ratios are read within one run only
(docs/benchmarks.md). Writes (POST prayers) add rows between variants: each round measures them
on the same database, alternated, which is fair to within what a few thousand rows change.

Endpoints (`--only`): by_id (a member reads one request), by_id_leader (a leader does), newest
(a member's first page of the newest), needs_prayer (a leader's first page), me_assign
(`/me/assignments`), post_prayers (a member logs a prayer).
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402

LEADER = "m1@seed.example"


def endpoints(api):
    member = api.login(bench.MEMBER)
    leader = api.login(LEADER)
    page = api.call("GET", "/prayer-requests?limit=1&sort=newest&status=active", token=member)
    rid = page["items"][0]["id"]
    base = "/api/v1"
    return {
        "by_id": dict(paths=[f"{base}/prayer-requests/{rid}"], token=member),
        "by_id_leader": dict(paths=[f"{base}/prayer-requests/{rid}"], token=leader),
        "newest": dict(paths=[f"{base}/prayer-requests?limit=20&sort=newest"], token=member),
        "needs_prayer": dict(paths=[f"{base}/prayer-requests?limit=20&sort=needs_prayer"], token=leader),
        "me_assign": dict(paths=[f"{base}/me/assignments?limit=20"], token=member),
        "post_prayers": dict(paths=[f"{base}/prayer-requests/{rid}/prayers"], token=member, method="POST", body={}),
    }


def parse_variant(text):
    name, _, rest = text.partition("=")
    binary, _, extra = rest.partition(":")
    env = dict(kv.split("=", 1) for kv in extra.split(",") if kv)
    return name, Path(binary).resolve(), env


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--variant", action="append", required=True)
    p.add_argument("--database", default="postgres", choices=["sqlite", "postgres"])
    p.add_argument("--scale", type=int, default=10000)
    p.add_argument("--only", default="by_id,by_id_leader,newest,post_prayers")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--duration", type=int, default=8)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432"))
    p.add_argument("--workdir", default=str(bench.ROOT / "target" / "bench"))
    p.add_argument("--fresh", action="store_true", help="SQLite: start every service on a fresh copy of the seeded file (what a run writes or drains is then not left to the next)")
    p.add_argument("--workers", action="store_true", help="leave the notification workers on (the seeded church's nudges then drain during the runs)")
    args = p.parse_args()
    if not args.workers:
        os.environ["WORKERS_ENABLED"] = "false"
    variants = [parse_variant(v) for v in args.variant]
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    bench.ensure_wrk()
    bench.INTERCEDE = variants[0][1]
    url, _ = bench.prepare_database(args.database, args.scale, args, workdir)
    if args.fresh and args.database != "sqlite":
        raise SystemExit("--fresh copies a SQLite file: use it with --database sqlite")
    template = Path(url.removeprefix("sqlite://"))
    only = args.only.split(",")
    results = {}
    for rnd in range(args.rounds):
        for name, binary, env in variants:
            bench.INTERCEDE = binary
            saved = dict(os.environ)
            os.environ.update({k: v for k, v in env.items() if k != "URL"})
            if args.fresh:
                for suffix in ("-wal", "-shm"):
                    Path(f"{template}.run{suffix}").unlink(missing_ok=True)
                shutil.copyfile(template, f"{template}.run")
                if Path(f"{template}-wal").exists():
                    shutil.copyfile(f"{template}-wal", f"{template}.run-wal")
                url_here = f"sqlite://{template}.run"
            else:
                url_here = url
            try:
                proc, port = bench.start_service(env.get("URL", url_here), workdir, f"ab-{name}")
            finally:
                os.environ.clear()
                os.environ.update(saved)
            try:
                eps = endpoints(bench.Api(port))
                for ep in only:
                    e = eps[ep]
                    kw = dict(token=e["token"], method=e.get("method", "GET"), body=e.get("body"))
                    bench.wrk(port, e["paths"], args, duration=3, **kw)
                    s = bench.wrk(port, e["paths"], args, **kw)
                    results.setdefault((ep, name), []).append(s)
                    bench.log(f"round {rnd + 1} {name} {ep}: {s['rps']:.0f} req/s, p99 {s['p99_us'] / 1000:.1f} ms, failed {s['failed']}")
            finally:
                proc.terminate()
                proc.wait(timeout=40)
    first = variants[0][0]
    print(f"\n| endpoint | variant | req/s per round | mean | ratio to {first} | p99 ms per round | failed |")
    print("|---|---|---|---:|---:|---|---:|")
    for ep in only:
        base = statistics.mean(s["rps"] for s in results[(ep, first)])
        for name, _, _ in variants:
            runs = results[(ep, name)]
            mean = statistics.mean(s["rps"] for s in runs)
            rps = ", ".join(f"{s['rps']:.0f}" for s in runs)
            p99 = ", ".join(f"{s['p99_us'] / 1000:.1f}" for s in runs)
            failed = sum(s["failed"] for s in runs)
            print(f"| {ep} | {name} | {rps} | {mean:.0f} | {mean / base:.2f} | {p99} | {failed} |")
    print(json.dumps({f"{ep}/{name}": [s["rps"] for s in runs] for (ep, name), runs in results.items()}))


if __name__ == "__main__":
    main()
