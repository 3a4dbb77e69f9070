#!/usr/bin/env bash
# Fuzz the REST API with schemathesis against its own OpenAPI document, on a demo database, through
# the real server (waitress) on a free loopback port, with an admin's write token.
# Checks: no 500s, and every response conforms to the document (status code, content type, headers,
# body schema). Exit code: schemathesis's. Usage: scripts/api_fuzz.sh [extra schemathesis options]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
work=$(mktemp -d /tmp/helpdesk-fuzz.XXXXXX)
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# SQLite in the temporary instance, or an empty database named by FUZZ_DATABASE_URL.
export HELPDESK_INSTANCE_PATH="$work/instance" HELPDESK_DATABASE_URL="${FUZZ_DATABASE_URL:-}" HELPDESK_SECRET_KEY=fuzz
export HELPDESK_API_RATE_LIMIT="100000 per minute"  # the limiter itself is tested in tests/api
"$BIN/helpdesk" init >/dev/null
"$BIN/helpdesk" demo --tickets "${FUZZ_DEMO_TICKETS:-300}" >/dev/null
token=$("$BIN/helpdesk" api token create --email admin@demo.test --scope write --name schemathesis)
port=$("$BIN/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

"$BIN/helpdesk" serve --host 127.0.0.1 --port "$port" --no-worker >"$work/server.log" 2>&1 &
server_pid=$!

status=0
"$BIN/schemathesis" run "http://127.0.0.1:$port/api/v1/openapi.json" \
    --wait-for-schema 60 \
    --header "Authorization: Bearer $token" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
    --phases examples,coverage,fuzzing \
    --max-examples "${FUZZ_MAX_EXAMPLES:-60}" \
    --seed "${FUZZ_SEED:-1}" \
    --workers 2 \
    --request-timeout 30 \
    --no-color \
    "$@" || status=$?
if grep -q "Traceback" "$work/server.log"; then
    echo "The server logged a traceback:"; grep -B2 -A30 "Traceback" "$work/server.log" | head -80
    [ "$status" -eq 0 ] && status=1
fi
exit "$status"
