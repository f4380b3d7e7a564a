#!/usr/bin/env python3
"""Faults under a write load, on the rig of scripts/cluster.sh: `python3 scripts/cluster_faults.py`.

With the rig up (`scripts/cluster.sh up`, same CLUSTER_DIR and CLUSTER_PORT), writers post prayer
requests through the proxy without pause while, one after the other:

  1. instance 2 is killed (SIGKILL), then started again;
  2. the replica is stopped, then started again;
  3. the primary is restarted.

Every acknowledged write (201) is then looked for in the primary, and every failed request is
reported with the fault it met. It prints what it saw and exits non-zero when an acknowledged write
is missing. (tests/api/cluster.rs proves the same promises one by one; this shows them together,
the way an operator would rehearse a bad day.) Only the standard library, and psql.
"""

import argparse
import json
import os
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLUSTER = ROOT / "scripts" / "cluster.sh"
BASE = int(os.environ.get("CLUSTER_PORT", "25400"))
PROXY = f"http://127.0.0.1:{BASE}/api/v1"
PRIMARY = f"postgres://postgres@127.0.0.1:{BASE + 32}/intercede"
PASSWORD = "correct horse battery"


def call(method, path, body=None, token=None, timeout=30):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(PROXY + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, None
    except OSError:
        return 0, None


def cluster(*args):
    subprocess.run(["bash", str(CLUSTER), *args], check=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--writers", type=int, default=8)
    p.add_argument("--pause", type=float, default=3.0, help="seconds between faults")
    args = p.parse_args()

    email = f"faults-{uuid.uuid4().hex}@example.org"
    status, _ = call("POST", "/auth/register", {"email": email, "password": PASSWORD, "display_name": "Faults"})
    if status != 201:
        raise SystemExit(f"register through {PROXY}: {status}; is the rig up (scripts/cluster.sh up)?")
    token = call("POST", "/auth/login", {"email": email, "password": PASSWORD})[1]["access_token"]

    phase = ["steady"]
    acknowledged, failures = [], []
    lock = threading.Lock()
    stop = threading.Event()

    def writer(w):
        i = 0
        while not stop.is_set():
            i += 1
            body = {"title": f"Faults {w}-{i}", "body": "b", "category": "healing", "kind": "prayer", "visibility": "congregation"}
            status, created = call("POST", "/prayer-requests", body, token)
            with lock:
                if status == 201:
                    acknowledged.append(created["id"])
                else:
                    failures.append((phase[0], status))

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(args.writers)]
    for t in threads:
        t.start()
    steps = [
        ("instance 2 killed", lambda: cluster("kill", "2")),
        ("instance 2 started", lambda: cluster("start", "2")),
        ("replica stopped", lambda: cluster("stop-replica")),
        ("replica started", lambda: cluster("start-replica")),
        ("primary restarted", lambda: cluster("restart-primary")),
    ]
    try:
        time.sleep(args.pause)
        for name, act in steps:
            with lock:
                phase[0] = name
            act()
            time.sleep(args.pause)
    finally:
        stop.set()
        for t in threads:
            t.join()

    ids = ",".join(f"'{i}'" for i in acknowledged) or "''"
    # The statement on standard input: thousands of ids are too long for a command line.
    stored = int(subprocess.run(
        ["psql", PRIMARY, "-Atq"], input=f"SELECT count(*) FROM prayer_requests WHERE id IN ({ids});",
        capture_output=True, text=True, check=True).stdout.strip())
    by_phase = {}
    for name, status in failures:
        by_phase.setdefault(name, {}).setdefault(status, 0)
        by_phase[name][status] += 1
    print(f"acknowledged writes: {len(acknowledged)}; found in the primary: {stored}")
    print(f"failed requests: {len(failures)} (status 0: the connection failed)")
    for name, counts in by_phase.items():
        print(f"  during '{name}': " + ", ".join(f"{n} x {s}" for s, n in sorted(counts.items())))
    if stored != len(acknowledged):
        raise SystemExit(f"LOST: {len(acknowledged) - stored} acknowledged writes are not in the primary")
    print("no acknowledged write lost")


if __name__ == "__main__":
    main()
