#!/usr/bin/env bash
# Installs and starts the system services the test suite talks to: Chromium (browser tests),
# Dovecot (IMAP), postfix's smtp-sink (mail benchmark), PgBouncer (make test-pgbouncer),
# libmagic (the app's media type detection),
# ffmpeg (uploaded video and audio read to their end, media/filetypes.py, and their metadata-free
# published copies, media/cleaning.py), and makes sure
# PostgreSQL and Redis run.
# Idempotent; needs root for apt-get (CI and the development machines run as root).
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v dovecot >/dev/null 2>&1 || need+=(dovecot-imapd)
command -v smtp-sink >/dev/null 2>&1 || [ -x /usr/sbin/smtp-sink ] || need+=(postfix)
# python-magic (media type detection) loads libmagic at import.
ldconfig -p 2>/dev/null | grep -q 'libmagic\.so\.1' || need+=(libmagic1)
# Without ffmpeg, uploaded video and audio are only walked box by box, not demuxed, and they are
# refused at publishing (their metadata cannot be removed).
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
# PgBouncer, for the suite and benches run through a pooler in transaction mode (make test-pgbouncer).
command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ] || need+=(pgbouncer)

if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "system-deps: missing ${need[*]}; run as root or install them with your package manager." >&2
    exit 1
  fi
  echo "system-deps: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # postfix is installed for its smtp-sink tool only; the daemon is not wanted.
  (command -v postfix >/dev/null && postfix stop >/dev/null 2>&1) || true
fi

if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "system-deps: starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
fi
if command -v redis-cli >/dev/null 2>&1 && ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  echo "system-deps: starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
fi
