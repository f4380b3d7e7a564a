#!/usr/bin/env bash
# The many-machines rig on one machine, from Debian's packages: HAProxy in front of three
# intercede instances, pgbouncer (transaction mode) between them and a PostgreSQL primary, and a
# second PostgreSQL cluster streaming from the primary as a read replica (docs/deploy.md).
#
#   scripts/cluster.sh up              build the release binary, bring everything up, print its addresses
#   scripts/cluster.sh status          what runs
#   scripts/cluster.sh kill N          SIGKILL instance N (1..3)
#   scripts/cluster.sh start N         start instance N again
#   scripts/cluster.sh stop-replica    stop the replica (fast shutdown)
#   scripts/cluster.sh start-replica   start it again; it catches up from the primary
#   scripts/cluster.sh restart-primary restart the primary (fast), as a crash or an upgrade would
#   scripts/cluster.sh replica-reads on|off   restart the instances with reads on the replica or not
#   scripts/cluster.sh down            stop everything and remove the rig's files and databases
#
# Every configuration variable of the service set in the environment of `up` (JWT_SECRET,
# LOGIN_ATTEMPTS_PER_MINUTE, SMTP_URL, ...) reaches every instance; the rig sets the database ones,
# BIND_ADDR, TRUSTED_PROXIES and PUBLIC_BASE_URL (unless given) itself. Variables of the rig:
#   CLUSTER_DIR     where its files go (default: ${TMPDIR:-/tmp}/intercede-cluster)
#   CLUSTER_PORT    the first of its ports (default 25400): proxy +0, instances +1..+3,
#                   primary +32, replica +33, pgbouncer +64; never 5432 or 8080
#   INTERCEDE_BIN   a binary to run instead of building target/release/intercede
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

# Absolute: the instances and the servers run after `cd "$DIR"`.
DIR=$(realpath -m "${CLUSTER_DIR:-${TMPDIR:-/tmp}/intercede-cluster}")
BASE=${CLUSTER_PORT:-25400}
PROXY_PORT=$BASE
PRIMARY_PORT=$((BASE + 32))
REPLICA_PORT=$((BASE + 33))
BOUNCER_PORT=$((BASE + 64))
# HAProxy connects to the instances from this address, and only it is trusted to name the client
# in X-Forwarded-For: a client on this machine (127.0.0.1) is not a proxy, whatever it writes.
PROXY_SOURCE=127.0.0.2
DB=intercede

say() { printf 'cluster: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

pg_bin() {
  local v
  v=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -1)
  [ -n "$v" ] || return 1
  echo "/usr/lib/postgresql/$v/bin"
}

install_packages() {
  local missing=()
  command -v haproxy >/dev/null || missing+=(haproxy)
  command -v pgbouncer >/dev/null || missing+=(pgbouncer)
  pg_bin >/dev/null && [ -x "$(pg_bin)/initdb" ] || missing+=(postgresql)
  command -v psql >/dev/null || missing+=(postgresql-client)
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 || {
      apt-get update -q >/dev/null 2>&1
      apt-get install -y -q "${missing[@]}" >/dev/null
    }
  fi
}

# PostgreSQL and pgbouncer refuse to run as root: as root, they run as `postgres`.
as_db_user() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

psql_at() { # port, sql...
  local port=$1; shift
  psql "postgres://postgres@127.0.0.1:${port}/postgres" -v ON_ERROR_STOP=1 -Atq "$@"
}

wait_for() { # what, seconds, command...
  local what=$1 secs=$2; shift 2
  for _ in $(seq 1 $((secs * 5))); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  die "$what did not come up within ${secs}s (logs in $DIR)"
}

if [ -n "${INTERCEDE_BIN:-}" ]; then
  INTERCEDE_BIN=$(realpath -m "$INTERCEDE_BIN")
fi
# The binary `up` ran is the one `start N` runs again.
binary() {
  if [ -f "$DIR/binary" ]; then
    cat "$DIR/binary"
  else
    echo "${INTERCEDE_BIN:-$ROOT/target/release/intercede}"
  fi
}

primary_url() { echo "postgres://postgres@127.0.0.1:${PRIMARY_PORT}/${DB}"; }
replica_url() { echo "postgres://postgres@127.0.0.1:${REPLICA_PORT}/${DB}"; }
bouncer_url() { echo "postgres://postgres@127.0.0.1:${BOUNCER_PORT}/${DB}"; }
instance_port() { echo $((BASE + $1)); }

start_postgres() { # name
  as_db_user "$(pg_bin)/pg_ctl" -D "$DIR/$1" -l "$DIR/$1.log" -w -t 60 start >/dev/null
}

stop_postgres() { # name
  if [ -f "$DIR/$1/postmaster.pid" ]; then
    as_db_user "$(pg_bin)/pg_ctl" -D "$DIR/$1" -m fast -w -t 60 stop >/dev/null 2>&1 || true
  fi
}

init_primary() {
  as_db_user "$(pg_bin)/initdb" -D "$DIR/primary" -U postgres --auth=trust -E UTF8 >"$DIR/initdb.log"
  cat >>"$DIR/primary/postgresql.conf" <<EOF
port = ${PRIMARY_PORT}
listen_addresses = '127.0.0.1'
unix_socket_directories = '${DIR}'
wal_level = replica
max_wal_senders = 5
hot_standby = on
max_connections = 200
fsync = on
EOF
  echo "host replication postgres 127.0.0.1/32 trust" >>"$DIR/primary/pg_hba.conf"
  start_postgres primary
  psql_at "$PRIMARY_PORT" -c "CREATE DATABASE ${DB}"
}

init_replica() {
  as_db_user "$(pg_bin)/pg_basebackup" -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres \
    -D "$DIR/replica" -R -X stream -c fast
  cat >>"$DIR/replica/postgresql.conf" <<EOF
port = ${REPLICA_PORT}
EOF
  start_postgres replica
}

start_pgbouncer() {
  cat >"$DIR/pgbouncer.ini" <<EOF
[databases]
${DB} = host=127.0.0.1 port=${PRIMARY_PORT} dbname=${DB}
; Any other database of the primary by its own name (.ci/run runs the test suite through pgbouncer,
; each test in a database of its own).
* = host=127.0.0.1 port=${PRIMARY_PORT}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${BOUNCER_PORT}
unix_socket_dir = ${DIR}
auth_type = trust
auth_file = ${DIR}/userlist.txt
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 40
server_reset_query =
; After the primary restarts, try its logins again within a second (the default waits 15 s).
server_login_retry = 1
logfile = ${DIR}/pgbouncer.log
pidfile = ${DIR}/pgbouncer.pid
EOF
  echo '"postgres" ""' >"$DIR/userlist.txt"
  as_db_user pgbouncer -d -q "$DIR/pgbouncer.ini"
  wait_for pgbouncer 30 psql "$(bouncer_url)" -Atqc 'SELECT 1'
}

start_haproxy() {
  {
    cat <<EOF
global
    maxconn 4000

defaults
    mode http
    option redispatch
    retries 3
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout http-request 30s

frontend api
    bind 127.0.0.1:${PROXY_PORT}
    option forwardfor
    default_backend instances

backend instances
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 500ms fall 2 rise 2 source ${PROXY_SOURCE}
EOF
    for n in 1 2 3; do
      echo "    server instance${n} 127.0.0.1:$(instance_port "$n") check"
    done
  } >"$DIR/haproxy.cfg"
  haproxy -c -q -f "$DIR/haproxy.cfg"
  haproxy -D -f "$DIR/haproxy.cfg" -p "$DIR/haproxy.pid" >>"$DIR/haproxy.log" 2>&1
}

cores_each() {
  local each=$(($(nproc) / 3))
  echo $((each > 0 ? each : 1))
}

start_instance() { # N
  local n=$1 port
  port=$(instance_port "$n")
  (
    # The service's configuration as `up` was given it (see save_environment).
    # shellcheck disable=SC1091
    . "$DIR/service.env"
    export DATABASE_URL
    DATABASE_URL=$(bouncer_url)
    export DATABASE_MIGRATION_URL
    DATABASE_MIGRATION_URL=$(primary_url)
    if [ "$(cat "$DIR/replica_reads" 2>/dev/null || echo on)" = on ]; then
      export DATABASE_REPLICA_URL
      DATABASE_REPLICA_URL=$(replica_url)
    else
      unset DATABASE_REPLICA_URL
    fi
    export DATABASE_PREPARED_STATEMENTS=false
    # Three instances share this machine's cores (with PostgreSQL, pgbouncer and HAProxy): unless
    # `up` was given them, each gets a third of the cores as HTTP workers (at least one) and 8
    # connections. Sized so, the rig served 10-11% more reads on a 2-core machine than with each
    # instance's defaults (docs/benchmarks.md, #20).
    export HTTP_WORKERS="${HTTP_WORKERS:-$(cores_each)}"
    export DATABASE_POOL_SIZE="${DATABASE_POOL_SIZE:-8}"
    export BIND_ADDR="127.0.0.1:${port}"
    export TRUSTED_PROXIES="${PROXY_SOURCE}/32"
    export PUBLIC_BASE_URL="${PUBLIC_BASE_URL:-http://127.0.0.1:${PROXY_PORT}}"
    cd "$DIR"
    setsid "$(binary)" serve >>"$DIR/instance${n}.log" 2>&1 </dev/null &
    echo $! >"$DIR/instance${n}.pid"
  )
  wait_for "instance $n" 60 curl -fsS "http://127.0.0.1:${port}/readyz"
}

# Every variable of the service's (those .env.example lists) set in the environment of `up`, kept
# for the instances `start N` starts later from another shell; and one signing key for all three.
save_environment() {
  local name
  : >"$DIR/service.env"
  chmod 600 "$DIR/service.env"
  for name in $(grep -oE '^#? ?[A-Z][A-Z0-9_]+=' "$ROOT/.env.example" | tr -d '#= ' | sort -u); do
    if [ -n "${!name+x}" ]; then
      printf 'export %s=%q\n' "$name" "${!name}" >>"$DIR/service.env"
    fi
  done
  if [ -z "${JWT_SECRET:-}" ]; then
    printf 'export JWT_SECRET=%s\n' "$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=')" \
      >>"$DIR/service.env"
  fi
}

instance_running() { # N
  local pid state
  [ -f "$DIR/instance$1.pid" ] || return 1
  pid=$(cat "$DIR/instance$1.pid")
  # A killed instance whose parent is gone may linger as a zombie where nothing reaps it.
  state=$(ps -o stat= -p "$pid" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "${state#Z}" = "$state" ]
}

print_addresses() {
  echo "proxy=http://127.0.0.1:${PROXY_PORT}"
  echo "primary=$(primary_url)"
  echo "replica=$(replica_url)"
  for n in 1 2 3; do
    echo "instance${n}=http://127.0.0.1:$(instance_port "$n")"
  done
}

up() {
  install_packages
  [ -e "$DIR/primary" ] && die "$DIR already holds a rig: scripts/cluster.sh down first"
  if [ -z "${INTERCEDE_BIN:-}" ]; then
    say "building the release binary"
    cargo build --release --quiet
  fi
  [ -x "$(binary)" ] || die "no binary at $(binary)"
  mkdir -p "$DIR"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$DIR"
  binary >"$DIR/binary.tmp" && mv "$DIR/binary.tmp" "$DIR/binary"
  save_environment
  say "primary on ${PRIMARY_PORT}"
  init_primary
  say "replica on ${REPLICA_PORT}"
  init_replica
  say "pgbouncer on ${BOUNCER_PORT}"
  start_pgbouncer
  # Migrations go to the primary itself, once, before any instance starts.
  DATABASE_URL=$(primary_url) "$(binary)" migrate >>"$DIR/migrate.log" 2>&1
  for n in 1 2 3; do
    say "instance ${n} on $(instance_port "$n")"
    start_instance "$n"
  done
  say "haproxy on ${PROXY_PORT}"
  start_haproxy
  wait_for "the proxy" 30 curl -fsS "http://127.0.0.1:${PROXY_PORT}/readyz"
  print_addresses
}

down() {
  for n in 1 2 3; do
    if instance_running "$n"; then kill -TERM "$(cat "$DIR/instance$n.pid")" 2>/dev/null || true; fi
  done
  [ -f "$DIR/haproxy.pid" ] && kill "$(cat "$DIR/haproxy.pid")" 2>/dev/null || true
  [ -f "$DIR/pgbouncer.pid" ] && kill "$(cat "$DIR/pgbouncer.pid")" 2>/dev/null || true
  for n in 1 2 3; do
    for _ in $(seq 1 50); do instance_running "$n" || break; sleep 0.2; done
    instance_running "$n" && kill -KILL "$(cat "$DIR/instance$n.pid")" 2>/dev/null || true
  done
  stop_postgres replica
  stop_postgres primary
  rm -rf "$DIR"
  say "down"
}

status() {
  [ -d "$DIR" ] || { say "no rig in $DIR"; return 0; }
  local ok
  for n in 1 2 3; do
    ok=down; instance_running "$n" && ok=running
    echo "instance${n}=${ok}"
  done
  ok=down; psql_at "$PRIMARY_PORT" -c 'SELECT 1' >/dev/null 2>&1 && ok=running
  echo "primary=${ok}"
  ok=down
  if psql_at "$REPLICA_PORT" -c 'SELECT 1' >/dev/null 2>&1; then
    ok="running lag_bytes=$(psql_at "$PRIMARY_PORT" -c \
      "SELECT COALESCE(max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)), -1) FROM pg_stat_replication")"
  fi
  echo "replica=${ok}"
  ok=down; psql "$(bouncer_url)" -Atqc 'SELECT 1' >/dev/null 2>&1 && ok=running
  echo "pgbouncer=${ok}"
  ok=down; curl -fsS "http://127.0.0.1:${PROXY_PORT}/readyz" >/dev/null 2>&1 && ok=running
  echo "proxy=${ok}"
}

instance_arg() {
  case "${1:-}" in 1|2|3) ;; *) die "an instance number, 1 to 3";; esac
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  kill)
    instance_arg "${2:-}"
    instance_running "$2" || die "instance $2 is not running"
    kill -KILL "$(cat "$DIR/instance$2.pid")"
    say "instance $2 killed"
    ;;
  start)
    instance_arg "${2:-}"
    instance_running "$2" && die "instance $2 is running"
    start_instance "$2"
    say "instance $2 started"
    ;;
  replica-reads)
    case "${2:-}" in on|off) ;; *) die "replica-reads on or off";; esac
    echo "$2" >"$DIR/replica_reads"
    for n in 1 2 3; do
      if instance_running "$n"; then
        kill -TERM "$(cat "$DIR/instance$n.pid")"
        for _ in $(seq 1 200); do instance_running "$n" || break; sleep 0.2; done
      fi
      start_instance "$n"
    done
    say "instances restarted with reads on the replica: $2"
    ;;
  stop-replica) stop_postgres replica; say "replica stopped" ;;
  start-replica) start_postgres replica; say "replica started" ;;
  restart-primary)
    as_db_user "$(pg_bin)/pg_ctl" -D "$DIR/primary" -l "$DIR/primary.log" -m fast -w -t 60 restart >/dev/null
    say "primary restarted"
    ;;
  *)
    sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
