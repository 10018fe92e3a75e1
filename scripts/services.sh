#!/usr/bin/env bash
# Start (or stop) a throw-away PostgreSQL and Redis on loopback for tests and benchmarks.
#   scripts/services.sh start DIR [PG_PORT] [REDIS_PORT]   -> prints export lines to eval
#   scripts/services.sh stop DIR
# PostgreSQL refuses to run as root, so as root the cluster runs as the `postgres` user.
set -euo pipefail
action=${1:?start|stop}
dir=${2:?data directory}
pg_port=${3:-55432}
redis_port=${4:-56379}

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
pg_bin() {
  for candidate in "$(command -v "$1" 2>/dev/null)" /usr/lib/postgresql/*/bin/"$1"; do
    [ -x "$candidate" ] && { echo "$candidate"; return; }
  done
  echo "missing PostgreSQL binary: $1" >&2; exit 1
}

case "$action" in
start)
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  if [ ! -f "$dir/pg/PG_VERSION" ]; then
    as_pg "$(pg_bin initdb)" -D "$dir/pg" -U crm --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    cat >>"$dir/pg/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 512MB
work_mem = 64MB
maintenance_work_mem = 512MB
max_wal_size = 4GB
max_connections = 200
CONF
  fi
  # Already running (a second `start` on the same directory) is fine.
  if ! as_pg "$(pg_bin pg_ctl)" -D "$dir/pg" status >/dev/null 2>&1 \
     && ! as_pg "$(pg_bin pg_ctl)" -D "$dir/pg" -l "$dir/pg.log" -w start >/dev/null; then
    echo "PostgreSQL did not start on port $pg_port; its log says:" >&2
    tail -n 20 "$dir/pg.log" >&2 || true
    exit 1
  fi
  as_pg "$(pg_bin psql)" -h 127.0.0.1 -p "$pg_port" -U crm -d postgres -qtAc \
    "SELECT 1 FROM pg_database WHERE datname='crm'" | grep -q 1 \
    || as_pg "$(pg_bin createdb)" -h 127.0.0.1 -p "$pg_port" -U crm crm
  if ! command -v redis-server >/dev/null; then
    echo "redis-server missing: apt-get install -y redis-server" >&2; exit 1
  fi
  redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
    --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir"
  for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  if ! redis-cli -p "$redis_port" ping >/dev/null 2>&1; then
    echo "Redis did not start on port $redis_port; its log says:" >&2
    tail -n 20 "$dir/redis.log" >&2 || true
    exit 1
  fi
  echo "export DATABASE_URL=postgres://crm@127.0.0.1:$pg_port/crm"
  echo "export REDIS_URL=redis://127.0.0.1:$redis_port/0"
  ;;
stop)
  [ -f "$dir/redis.pid" ] && kill "$(cat "$dir/redis.pid")" 2>/dev/null || true
  [ -f "$dir/pg/postmaster.pid" ] && as_pg "$(pg_bin pg_ctl)" -D "$dir/pg" -m fast stop >/dev/null || true
  ;;
esac
