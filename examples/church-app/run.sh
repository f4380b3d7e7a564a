#!/usr/bin/env bash
# Runs the church-app example against a fresh intercede: installs the example's npm packages
# (package-lock.json), generates the client's types from openapi/openapi.json, type-checks and
# compiles the example, starts the service on a free port with its own SQLite file, and runs the
# calls. Fails when any step does: a spec change that breaks an app's calls fails here.
#
#   examples/church-app/run.sh [path/to/intercede]    (default: target/debug/intercede)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${1:-$root/target/debug/intercede}"
[ -x "$bin" ] || { echo "no service binary at $bin (cargo build first)" >&2; exit 1; }
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"

cd "$here"
npm ci --no-audit --no-fund --loglevel=error
npm run --silent build

work="$(mktemp -d)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
BIND_ADDR="127.0.0.1:$port" DATABASE_URL="sqlite://$work/example.db" \
  JWT_SECRET="example-secret-example-secret-example-secret" RUST_LOG=warn \
  "$bin" serve >"$work/service.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  kill -0 $pid 2>/dev/null || { cat "$work/service.log" >&2; exit 1; }
  sleep 0.1
done
node dist/first-calls.js "http://127.0.0.1:$port"
