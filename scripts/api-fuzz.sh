#!/usr/bin/env bash
# Property-based fuzzing of the API from its own OpenAPI schema (schemathesis), against a live
# server on a fresh SQLite database with the demo data. Fails on any 5xx and on any response the
# schema does not describe. Two passes: examples and fuzzing on every operation (FUZZ_EXAMPLES bounds
# the examples per operation), then the coverage phase on writes only (POST, PATCH, PUT, DELETE),
# negative data only: every value the schema forbids (out of range, too long, wrong type, missing
# required), where a 500 would hide. The coverage phase cannot be bounded by a count (about 85
# requests per operation), so reads and positive data are left to a deeper run:
# FUZZ_PHASES=examples,coverage,fuzzing FUZZ_COVERAGE=0.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=.venv/bin
work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap "exit 143" INT TERM

export AICMO_VAR_DIR="$work"
export DATABASE_URL="sqlite:///$work/fuzz.sqlite3"
export MEDIA_ROOT="$work/media"
export DJANGO_SETTINGS_MODULE=aicmo_site.settings.base
# As in production: Django's own error pages (no route, an unreadable body) are answered by the
# project's handlers, not the debug pages.
export DEBUG=0 ALLOWED_HOSTS=127.0.0.1
export SECRET_KEY="fuzz-$(head -c 48 /dev/urandom | base64 | tr -d '/+=\n')"
export FIELD_ENCRYPTION_KEY="$(.venv/bin/python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
# The fuzzer is one client sending thousands of requests: the rate limits would answer most of them.
export API_THROTTLE_ANON=1000000/minute API_THROTTLE_USER=1000000/minute API_THROTTLE_LOGIN=1000000/minute

$bin/python manage.py migrate --noinput -v0
$bin/python manage.py seed_demo >/dev/null
$bin/python manage.py ensure_admin >/dev/null
token="$($bin/python manage.py create_api_token admin 2>/dev/null)"

port="$($bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
$bin/gunicorn aicmo_site.wsgi -b "127.0.0.1:$port" -w 2 --timeout 60 --log-level warning --limit-request-line 0 \
  >"$work/server.log" 2>&1 &
server_pid=$!

# Logging out would revoke the fuzzer's own token and turn every later request into a 401.
outcome=0
$bin/schemathesis run "http://127.0.0.1:$port/api/schema/" \
  --wait-for-schema 60 \
  -H "Authorization: Token $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --exclude-path /api/auth/logout/ \
  --phases "${FUZZ_PHASES:-examples,fuzzing}" \
  --max-examples "${FUZZ_EXAMPLES:-20}" \
  --seed "${FUZZ_SEED:-24}" \
  --no-shrink \
  --generation-database none \
  --workers 1 \
  --request-timeout 30 \
  --warnings off \
  --no-color \
  "$@" || outcome=$?

if [ "${FUZZ_COVERAGE:-1}" = 1 ]; then
  $bin/schemathesis --config-file scripts/api-fuzz-coverage.toml run "http://127.0.0.1:$port/api/schema/" \
    -H "Authorization: Token $token" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --exclude-path /api/auth/logout/ \
    --include-method POST --include-method PATCH --include-method PUT --include-method DELETE \
    --phases coverage \
    --mode negative \
    --seed "${FUZZ_SEED:-24}" \
    --no-shrink \
    --generation-database none \
    --workers 1 \
    --request-timeout 30 \
    --warnings off \
    --no-color \
    "$@" || outcome=$?
fi

# What went wrong on the server's side (a 500's traceback), without the requests it rightly refused.
if grep -q " ERROR django.request: " "$work/server.log"; then
  echo "=== server errors ==="
  grep -v " WARNING django.request: " "$work/server.log" | tail -n 400
fi
exit "$outcome"
