#!/usr/bin/env bash
# User-space instructions per request for one endpoint, counted by callgrind: a figure that,
# unlike requests per second on a shared two-core machine, moves only when the code does. Use it
# to compare two commits; the load benchmark (scripts/bench.py) stays the judge of throughput.
#
#   scripts/instructions.sh '/prayer-requests/{id}' [requests]
#   scripts/instructions.sh '/prayer-requests?limit=20' 500
#   METHOD=POST scripts/instructions.sh '/prayer-requests/{id}/prayers'
#   BIN=/tmp/other/target/release/intercede scripts/instructions.sh '/prayer-requests/{id}'
#
# BIN measures a binary built elsewhere (another commit's worktree) instead of building this one.
#
# Needs valgrind (Debian: valgrind) and Python 3. Builds the dist binary (cargo build --profile dist), seeds a SQLite
# church of 10,000 requests once (target/bench/instructions.db, copied fresh for every run),
# starts the service under callgrind, signs in as m40@seed.example, sends 300 requests to warm
# up, zeroes the counters, sends the measured requests one after another on one connection,
# and divides. `{id}` is the first request on m40's list.
set -euo pipefail
cd "$(dirname "$0")/.."

path=${1:?usage: scripts/instructions.sh PATH [REQUESTS]}
count=${2:-2000}
method=${METHOD:-GET}
port=${PORT:-18931}
work=target/bench/instructions
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 1; }

bin=${BIN:-target/dist/intercede}
[ -n "${BIN:-}" ] || cargo build --profile dist --quiet --bin intercede
mkdir -p "$work"
if [ ! -f target/bench/instructions.db ]; then
  DATABASE_URL=sqlite://target/bench/instructions.db "$bin" seed --requests 10000 >/dev/null
fi
cp target/bench/instructions.db "$work/run.db"
rm -f "$work"/run.db-* "$work"/callgrind.out.*

JWT_SECRET=instructions-secret-instructions-secret-0123 LOGIN_ATTEMPTS_PER_MINUTE=1000000 \
  LOG_FORMAT=${LOG_FORMAT:-json} DATABASE_URL="sqlite://$work/run.db" BIND_ADDR="127.0.0.1:$port" \
  valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out.%p" \
  "$bin" serve >"$work/service.log" 2>&1 &
service=$!
trap 'kill $service 2>/dev/null || true' EXIT

python3 - "$port" "$path" "$count" "$method" <<'EOF'
import http.client, json, subprocess, sys, time

port, path, count, method = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
for _ in range(200):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port)
        c.request("GET", "/healthz"); c.getresponse().read(); break
    except OSError:
        time.sleep(0.5)
c = http.client.HTTPConnection("127.0.0.1", port)

def call(verb, url, body=None, token=None):
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = "Bearer " + token
    c.request(verb, url, body=json.dumps(body) if body is not None else None, headers=headers)
    r = c.getresponse(); data = r.read()
    return r.status, data

status, data = call("POST", "/api/v1/auth/login", {"email": "m40@seed.example", "password": "seed password"})
token = json.loads(data)["access_token"]
status, data = call("GET", "/api/v1/prayer-requests?limit=1", token=token)
url = "/api/v1" + path.replace("{id}", json.loads(data)["items"][0]["id"])
body = {} if method == "POST" else None

def run(n):
    for _ in range(n):
        status, _ = call(method, url, body, token)
        if status >= 400:
            sys.exit(f"{method} {url} answered {status}")

run(300)
subprocess.run(["callgrind_control", "-z"], check=True, capture_output=True)
run(count)
subprocess.run(["callgrind_control", "-d"], check=True, capture_output=True)
EOF

sleep 1
total=$(cat "$work"/callgrind.out.*.* | awk '/^summary:/ {s += $2} END {print s}')
python3 -c 'import sys; m, p, t, n = sys.argv[1:]; print(f"{m} {p}: {int(t) / int(n) / 1000:,.1f}k instructions per request ({n} requests)")' \
  "$method" "$path" "$total" "$count"
