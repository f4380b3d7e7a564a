#!/usr/bin/env python3
"""The load benchmark of issue #7, in one command: `python3 scripts/bench.py`.

It builds the service and a bare actix-web hello-world (examples/hello_baseline.rs) with the
dist profile (one codegen unit, fat LTO), measures what argon2 alone achieves on this machine (examples/argon2_alone.rs),
then for each database and scale: seeds a church with `intercede seed`, starts the service and
drives each endpoint with wrk (same connections and duration as the baseline, after a warm-up).
It reports requests/s, p50 and p99 latency, the server's peak RSS while that endpoint ran, the
ratio to hello-world (measured again just before and after each database and scale, the ratios
taken to the mean of the two: the machine's speed drifts over a run), and each target of the
issue with PASS or MISS.

Only the standard library: it runs wherever the project's CI runs (CPython 3.11, wrk from Debian).
See docs/benchmarks.md for the options and the latest results.
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RELEASE = ROOT / "target" / "dist"
INTERCEDE = RELEASE / "intercede"
LUA = ROOT / "benches" / "wrk" / "bench.lua"
PASSWORD = "seed password"
# A plain team member with by-name assignments at every scale (see src/seed.rs: member k is
# assigned request i when i % 20 == 0 and i % members == k).
MEMBER = "m40@seed.example"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd, **kw):
    log("$ " + " ".join(str(c) for c in cmd))
    return subprocess.run(cmd, check=True, **kw)


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def reset_peak_rss(pid):
    """Writing 5 to clear_refs resets VmHWM (Linux), so each endpoint gets its own peak."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def wait_until_answering(port, proc, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode} before answering")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"server on port {port} did not answer in {seconds}s")


class Api:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}/api/v1"

    def call(self, method, path, body=None, token=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            raise SystemExit(f"{method} {path}: {e.code} {e.read()[:300]!r}")

    def login(self, email):
        return self.call("POST", "/auth/login", {"email": email, "password": PASSWORD})["access_token"]


def wrk(port, paths, args, method="GET", body=None, token=None, connections=None, duration=None):
    """Runs wrk once and returns its summary (see benches/wrk/bench.lua)."""
    env = dict(os.environ)
    env.update(
        BENCH_METHOD=method,
        BENCH_PATHS=" ".join(paths),
        BENCH_BODY=json.dumps(body) if body is not None else "",
        BENCH_TOKEN=token or "",
    )
    connections = connections or args.connections
    cmd = [
        "wrk",
        f"-t{min(args.threads, connections)}",
        f"-c{connections}",
        f"-d{duration or args.duration}s",
        "--timeout", "10s",
        "-s", str(LUA),
        f"http://127.0.0.1:{port}",
    ]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if line.startswith("BENCH "):
            s = json.loads(line[6:])
            s["rps"] = s["requests"] / (s["duration_us"] / 1e6)
            s["failed"] = sum(s[k] for k in ("status_errors", "connect_errors", "read_errors", "write_errors", "timeouts"))
            return s
    raise SystemExit(f"wrk printed no summary:\n{out}")


def measure(pid, port, paths, args, **kw):
    """Warm-up, then a measured run with the peak RSS of that run alone."""
    wrk(port, paths, args, duration=args.warmup, **kw)
    reset_peak_rss(pid)
    s = wrk(port, paths, args, **kw)
    s["rss_mib"] = peak_rss_kib(pid) / 1024
    return s


def build(args):
    if args.no_build:
        return
    run(["cargo", "build", "--profile", "dist", "--bin", "intercede", "--example", "hello_baseline", "--example", "argon2_alone"], cwd=ROOT)


def ensure_wrk():
    if shutil.which("wrk"):
        return
    log("wrk is not installed; installing it from Debian")
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=False, capture_output=True)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")


def argon2_alone(args):
    out = subprocess.run([RELEASE / "examples" / "argon2_alone", str(args.duration)], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def baseline(args):
    port = free_port()
    proc = subprocess.Popen([RELEASE / "examples" / "hello_baseline", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_answering(port, proc)
        return measure(proc.pid, port, ["/"], args)
    finally:
        proc.terminate()
        proc.wait()


def prepare_database(kind, scale, args, workdir):
    """A freshly seeded database; returns its URL and how long seeding took."""
    if kind == "sqlite":
        path = workdir / f"bench-{scale}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        url = f"sqlite://{path}"
    else:
        name = f"intercede_bench_{scale}"
        admin = args.postgres_url.rstrip("/") + "/postgres"
        run(["psql", admin, "-q", "-c", f"DROP DATABASE IF EXISTS {name}", "-c", f"CREATE DATABASE {name}"], stdout=subprocess.DEVNULL)
        url = args.postgres_url.rstrip("/") + "/" + name
    started = time.time()
    env = dict(os.environ, DATABASE_URL=url, RUST_LOG="warn")
    run([INTERCEDE, "seed", "--requests", str(scale)], env=env)
    seeded = time.time() - started
    # The seed's writes reach the disk before anything is measured: a million requests are a
    # 2 GB SQLite file, and the kernel writing it back would otherwise compete with the first
    # endpoints measured.
    os.sync()
    return url, seeded


def start_service(url, workdir, label):
    port = free_port()
    env = dict(
        os.environ,
        DATABASE_URL=url,
        BIND_ADDR=f"127.0.0.1:{port}",
        JWT_SECRET="bench-secret-bench-secret-bench-secret-0123",
        LOGIN_ATTEMPTS_PER_MINUTE="1000000",
        LOG_FORMAT="json",
    )
    logfile = open(workdir / f"service-{label}.log", "w")
    proc = subprocess.Popen([INTERCEDE, "serve"], env=env, stdout=logfile, stderr=logfile)
    wait_until_answering(port, proc)
    return proc, port


def bench_service(url, args, workdir, label):
    proc, port = start_service(url, workdir, label)
    try:
        api = Api(port)
        token = api.login(MEMBER)
        page = api.call("GET", "/prayer-requests?limit=100&sort=newest", token=token)
        ids = [r["id"] for r in page["items"]]
        active = [r["id"] for r in page["items"] if r["status"] == "active"] or ids
        watches = api.call("GET", "/watches?limit=10", token=token)["items"]
        watch = next(w for w in watches if w["name"] == "24/7 prayer room")
        year = int(watch["starts_on"][:4])
        category = api.call("GET", "/categories", token=token)["items"][0]["name"]
        pid = proc.pid
        results = {}

        def go(name, paths, **kw):
            log(f"  {label}: {name}")
            results[name] = measure(pid, port, paths, args, token=token, **kw)

        go("GET /prayer-requests/{id}", [f"/api/v1/prayer-requests/{ids[0]}"])
        go("GET /prayer-requests?limit=20 (newest)", ["/api/v1/prayer-requests?limit=20&sort=newest"])
        go("GET /prayer-requests?limit=20 (needs_prayer)", ["/api/v1/prayer-requests?limit=20&sort=needs_prayer"])
        go("GET /watches/{id}/slots (a week)", [f"/api/v1/watches/{watch['id']}/slots?from={year}-03-02&to={year}-03-09"])
        go("GET /watches/{id}/coverage (a year)", [f"/api/v1/watches/{watch['id']}/coverage?from={year}-01-01&to={year + 1}-01-01"])
        # The coverage target is a latency, not a throughput: one caller at a time.
        go("GET /watches/{id}/coverage (a year), 1 connection", [f"/api/v1/watches/{watch['id']}/coverage?from={year}-01-01&to={year + 1}-01-01"], connections=1)
        go("GET /me/assignments", ["/api/v1/me/assignments?limit=20"])
        go("POST /prayer-requests/{id}/prayers", [f"/api/v1/prayer-requests/{i}/prayers" for i in active], method="POST", body={})
        go(
            "POST /prayer-requests",
            ["/api/v1/prayer-requests"],
            method="POST",
            body={"title": "Benchmark: strength for the week", "body": "Please pray for our family this week.", "category": category, "kind": "prayer"},
        )
        login_body = {"email": MEMBER, "password": PASSWORD}
        go("POST /auth/login", ["/api/v1/auth/login"], method="POST", body=login_body)

        # Logins saturating the CPU while members read: the reads' p99 must stay low.
        log(f"  {label}: GET by id while logins saturate the CPU")
        half = max(1, args.connections // 2)
        env_login = dict(os.environ, BENCH_METHOD="POST", BENCH_PATHS="/api/v1/auth/login", BENCH_BODY=json.dumps(login_body), BENCH_TOKEN="")
        login_proc = subprocess.Popen(
            ["wrk", "-t1", f"-c{half}", f"-d{args.duration + 2}s", "--timeout", "10s", "-s", str(LUA), f"http://127.0.0.1:{port}"],
            env=env_login, stdout=subprocess.PIPE, text=True,
        )
        time.sleep(1)
        reset_peak_rss(pid)
        during = wrk(port, [f"/api/v1/prayer-requests/{ids[0]}"], args, token=token, connections=half)
        during["rss_mib"] = peak_rss_kib(pid) / 1024
        login_proc.communicate()
        results["GET /prayer-requests/{id} during logins"] = during
        return results
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            proc.kill()


def fmt_row(name, s, base_rps):
    ratio = s["rps"] / base_rps if base_rps else 0
    failed = f" ({s['failed']} failed)" if s["failed"] else ""
    return f"| {name} | {s['rps']:,.0f}{failed} | {s['p50_us'] / 1000:.2f} | {s['p99_us'] / 1000:.2f} | {s['rss_mib']:.1f} | {ratio:.0%} |"


def check_targets(base, argon, runs):
    """The issue's targets, each PASS or MISS, for every database measured at its largest scale."""
    lines = []

    def target(ok, text):
        lines.append(f"- {'PASS' if ok else 'MISS'}: {text}")

    for db, scales in runs.items():
        big = max(scales)
        r = scales[big]["results"]
        b = scales[big]["baseline"]["rps"]
        g = r["GET /prayer-requests/{id}"]
        target(g["rps"] / b >= 0.35, f"{db} at {big:,}: GET by id {g['rps'] / b:.0%} of hello-world (target 35%)")
        for sort in ("newest", "needs_prayer"):
            s = r[f"GET /prayer-requests?limit=20 ({sort})"]
            target(s["rps"] / b >= 0.20 and s["p99_us"] < 25_000, f"{db} at {big:,}: list {sort} {s['rps'] / b:.0%} of hello-world (target 20%), p99 {s['p99_us'] / 1000:.1f} ms (target < 25 ms)")
        w = r["POST /prayer-requests/{id}/prayers"]
        target(w["rps"] / b >= 0.10 and w["failed"] == 0, f"{db} at {big:,}: POST prayers {w['rps'] / b:.0%} of hello-world (target 10%), {w['failed']} failed (target 0)")
        c = r["GET /watches/{id}/coverage (a year), 1 connection"]
        target(c["p50_us"] < 20_000, f"{db} at {big:,}: coverage of a year p50 {c['p50_us'] / 1000:.1f} ms, one caller at a time (target < 20 ms)")
        login = r["POST /auth/login"]
        target(login["rps"] >= 0.8 * argon["per_second"], f"{db} at {big:,}: login {login['rps']:.1f}/s vs argon2 alone {argon['per_second']:.1f}/s = {login['rps'] / argon['per_second']:.0%} (target 80%)")
        d = r["GET /prayer-requests/{id} during logins"]
        target(d["p99_us"] < 100_000, f"{db} at {big:,}: GET by id p99 while logins saturate the CPU {d['p99_us'] / 1000:.1f} ms (target < 100 ms)")
        peak = max(s["rss_mib"] for sc in scales.values() for s in sc["results"].values())
        target(peak < 100, f"{db}: server peak RSS {peak:.1f} MiB (target < 100 MiB)")
        small = min(scales)
        if small != big:
            for name in ("GET /prayer-requests?limit=20 (newest)", "GET /prayer-requests?limit=20 (needs_prayer)", "GET /me/assignments"):
                lo, hi = scales[small]["results"][name]["p50_us"], r[name]["p50_us"]
                target(hi <= 1.5 * lo, f"{db}: {name} p50 {hi / 1000:.2f} ms at {big:,} vs {lo / 1000:.2f} ms at {small:,} = {hi / lo:.2f}x (target <= 1.5x)")
    return lines


def report(args, base, argon, runs):
    out = []
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown CPU")
    mem = next((l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal")), "0")
    out.append(f"Machine: {os.cpu_count()} cores ({cpu}), {int(mem) // 1024 // 1024} GiB; {time.strftime('%Y-%m-%d')}; "
               f"wrk {args.threads} threads, {args.connections} connections, {args.warmup} s warm-up, {args.duration} s measured.")
    out.append("")
    out.append(f"hello-world at the start: {base['rps']:,.0f} req/s, p50 {base['p50_us'] / 1000:.2f} ms, p99 {base['p99_us'] / 1000:.2f} ms, peak RSS {base['rss_mib']:.1f} MiB.  ")
    out.append(f"argon2 alone ({argon['threads']} threads, the service's parameters): {argon['per_second']:.1f} verifications/s.")
    for db, scales in runs.items():
        for scale, run_ in scales.items():
            out.append("")
            out.append(f"### {db}, {scale:,} requests (seeded in {run_['seed_seconds']:.0f} s)")
            out.append("")
            around = run_["baseline"]
            out.append(f"hello-world just before and after this block: {around['before_rps']:,.0f} and {around['after_rps']:,.0f} req/s; "
                       f"the ratios below are to their mean, {around['rps']:,.0f}.")
            out.append("")
            out.append("| endpoint | req/s | p50 ms | p99 ms | peak RSS MiB | of hello-world |")
            out.append("|---|---|---|---|---|---|")
            for name, s in run_["results"].items():
                out.append(fmt_row(name, s, around["rps"]))
    out.append("")
    out.append("### Targets")
    out.append("")
    out.extend(check_targets(base, argon, runs))
    return "\n".join(out) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--databases", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    p.add_argument("--scales", default="10000,1000000", help="comma-separated request counts")
    p.add_argument("--duration", type=int, default=10, help="seconds measured per endpoint")
    p.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per endpoint")
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--threads", type=int, default=2, help="wrk threads")
    p.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432"), help="server URL without a database name")
    p.add_argument("--workdir", default=str(ROOT / "target" / "bench"), help="SQLite files, server logs, results")
    p.add_argument("--no-build", action="store_true", help="use the binaries already in target/dist")
    p.add_argument("--intercede", help="measure this service binary instead of target/dist/intercede (another commit's, for a before/after; the baselines stay this checkout's)")
    args = p.parse_args()
    global INTERCEDE
    if args.intercede:
        INTERCEDE = Path(args.intercede).resolve()

    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    ensure_wrk()
    build(args)
    log("argon2 alone")
    argon = argon2_alone(args)
    log("hello-world baseline")
    base = baseline(args)
    runs = {}
    for db in args.databases.split(","):
        runs[db] = {}
        for scale in (int(s) for s in args.scales.split(",")):
            log(f"{db}, {scale} requests: seeding")
            url, seed_seconds = prepare_database(db, scale, args, workdir)
            # The machine's speed drifts over a run (other tenants share its cores): each block is
            # bracketed by hello-world runs, and its ratios are taken against their mean.
            log(f"{db}, {scale} requests: hello-world before")
            before = baseline(args)
            results = bench_service(url, args, workdir, f"{db}-{scale}")
            log(f"{db}, {scale} requests: hello-world after")
            after = baseline(args)
            around = {"rps": (before["rps"] + after["rps"]) / 2, "before_rps": before["rps"], "after_rps": after["rps"]}
            runs[db][scale] = {"seed_seconds": seed_seconds, "baseline": around, "results": results}
    text = report(args, base, argon, runs)
    (workdir / "results.md").write_text(text)
    (workdir / "results.json").write_text(json.dumps({"baseline": base, "argon2": argon, "runs": {db: {str(k): v for k, v in s.items()} for db, s in runs.items()}}, indent=2))
    print(text)
    log(f"written to {workdir / 'results.md'} and results.json")


if __name__ == "__main__":
    main()
