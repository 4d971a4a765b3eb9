#!/usr/bin/env bash
# Fuzzes the HTTP API of a fresh demo server against its own OpenAPI
# document (GET /api/openapi.json) with schemathesis, from PyPI: no answer
# may be a 5xx, and every answer must match the document (status, content
# type, headers, body). Runs each operation with the credentials it needs:
# the admin token for the admin API, the publish token for the registry, a
# staff and a customer session for the rest. Expects target/debug/hangar to be built.
set -euo pipefail
cd "$(dirname "$0")/.."

version=4.32.5
st=(schemathesis)
if ! schemathesis --version 2>/dev/null | grep -q "$version"; then
    venv=target/schemathesis-venv
    [ -x "$venv/bin/schemathesis" ] || {
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q "schemathesis==$version"
    }
    st=("$PWD/$venv/bin/schemathesis")
fi

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
data=$(mktemp -d)
log=target/schemathesis-server.log
target/debug/hangar serve --demo --config /dev/null --listen "127.0.0.1:$port" \
    --data-dir "$data" --cache-dir target/schemathesis-cache >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$data"' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 300); do
    curl -sf "$base/readyz" >/dev/null && break
    sleep 0.5
done
curl -sf "$base/readyz" >/dev/null || { echo "the demo server did not become ready (see $log)" >&2; exit 1; }

token() { python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])'; }
admin=$(cat "$data/admin.token")
staff=$(curl -sf -X POST -H "Authorization: Bearer $admin" "$base/api/admin/session" | token)
customer=$(curl -sf -X POST -H 'Content-Type: application/json' \
    -d '{"user":"schemathesis","role":"customer"}' "$base/api/session" | token)

# One worker: Python 3.11's ast.parse, which hypothesis calls to describe
# its filters, is not thread-safe ("AST constructor recursion depth
# mismatch").
checks=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance
# From target/, where schemathesis keeps its cache (.schemathesis/).
# The hooks teach it the tus bodies' media type (raw bytes).
run() {
    (cd target && PYTHONPATH="$PWD/../scripts" SCHEMATHESIS_HOOKS=schemathesis_hooks "${st[@]}" run "$base/api/openapi.json" --checks "$checks" \
        --max-examples "${SCHEMATHESIS_EXAMPLES:-100}" --workers 1 --no-color "$@")
}
status=0
run -H "Authorization: Bearer $admin" --include-tag admin || status=1
run -H "Authorization: Bearer $(cat "$data/publish.token")" --include-tag registry || status=1
run -H "Authorization: Bearer $staff" --exclude-tag admin --exclude-tag registry || status=1
run -H "Authorization: Bearer $customer" --exclude-tag admin --exclude-tag registry || status=1
if grep -q "panicked" "$log"; then
    echo "the server panicked (see $log)" >&2
    status=1
fi
exit $status
