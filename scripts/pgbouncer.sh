#!/usr/bin/env bash
# Starts Debian's PgBouncer in transaction pooling mode in front of the local PostgreSQL, for the suite
# and the benches run through a pooler (README: "PgBouncer in transaction mode").
#   bash scripts/pgbouncer.sh start [PORT]   (default 6432; prints the DATABASE_URL host part)
#   bash scripts/pgbouncer.sh stop [PORT]
# Any database name is passed through to PostgreSQL at 127.0.0.1:5432 (trust auth on this machine).
set -euo pipefail
action="${1:-start}"
port="${2:-6432}"
dir="/tmp/aicmo-pgbouncer-${port}"
pidfile="${dir}/pgbouncer.pid"

if [ "$action" = stop ]; then
  [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
  exit 0
fi

command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ] || bash "$(dirname "$0")/system-deps.sh"
PATH="$PATH:/usr/sbin"
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  echo "127.0.0.1:${port}"
  exit 0
fi
mkdir -p "$dir"
printf '"postgres" ""\n' > "${dir}/users.txt"
cat > "${dir}/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=5432

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${port}
unix_socket_dir =
auth_type = trust
admin_users = postgres
auth_file = ${dir}/users.txt
pool_mode = transaction
max_client_conn = 500
default_pool_size = 20
; A test database is dropped at the end of a run: idle server connections to it must not hold it.
server_idle_timeout = 5
server_lifetime = 60
ignore_startup_parameters = extra_float_digits,options
logfile = ${dir}/pgbouncer.log
pidfile = ${pidfile}
INI
# PgBouncer refuses to run as root; the postgres user owns nothing here but must read the files.
chmod 755 "$dir"; chmod 644 "${dir}"/*.ini "${dir}"/users.txt
touch "${dir}/pgbouncer.log"; chown postgres "${dir}" "${dir}/pgbouncer.log" 2>/dev/null || true
if [ "$(id -u)" = 0 ]; then
  pgbouncer -d -u postgres "${dir}/pgbouncer.ini"
else
  pgbouncer -d "${dir}/pgbouncer.ini"
fi
for _ in $(seq 50); do
  pg_isready -q -h 127.0.0.1 -p "$port" && break
  sleep 0.1
done
echo "127.0.0.1:${port}"
