#!/usr/bin/env bash
# Starts a throwaway local cluster of three demo nodes on this machine's
# PostgreSQL and NATS and an S3-compatible server (moto, as the tests use),
# and prints their URLs. Ctrl-C stops everything. Each start begins afresh:
# the database `hangar_cluster` is dropped and made again (moto keeps
# nothing either).
#
#   HANGAR_CLUSTER_POSTGRES  server URL  [postgres://postgres@127.0.0.1:5432/postgres]
#   HANGAR_CLUSTER_NATS      broker URL  [nats://127.0.0.1:4222]
#   HANGAR_CLUSTER_PORT      first port: nodes on PORT, PORT+1, PORT+2; S3 on PORT+3 [8081]
set -euo pipefail
cd "$(dirname "$0")/.."
pg_server="${HANGAR_CLUSTER_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres}"
nats="${HANGAR_CLUSTER_NATS:-nats://127.0.0.1:4222}"
port="${HANGAR_CLUSTER_PORT:-8081}"

if command -v rustup >/dev/null 2>&1; then
    rustup target add wasm32-wasip2
fi
cargo build --release --target wasm32-wasip2 --manifest-path plugins/Cargo.toml
cargo build --release -p hangar-host --bin hangar
hangar="$PWD/target/release/hangar"

pids=()
stop() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait || true; }
trap stop EXIT INT TERM

psql "$pg_server" -qc "DROP DATABASE IF EXISTS hangar_cluster WITH (FORCE)"
psql "$pg_server" -qc "CREATE DATABASE hangar_cluster"
database="${pg_server%/*}/hangar_cluster"

. scripts/lib/moto.sh
s3_port=$((port + 3))
start_moto "$s3_port" target/cluster/moto.log
pids+=("$moto_pid")
python3 -c "import urllib.request as u; u.urlopen(u.Request('http://127.0.0.1:$s3_port/hangar-cluster', method='PUT'))"

export HANGAR_DATABASE_URL="$database"
export HANGAR_OBJECT_STORE_URL="s3://hangar-cluster/cluster"
export AWS_ENDPOINT="http://127.0.0.1:$s3_port" AWS_ALLOW_HTTP=true
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION=us-east-1
export HANGAR_BROKER="$nats" HANGAR_BROKER_PREFIX="hangar-cluster"
# One key and one admin token for the whole cluster: a session minted on
# one node is valid on every node.
export HANGAR_SESSION_KEY="local-cluster-session-key-0123456789abcdef"
export HANGAR_ADMIN_TOKEN="local-cluster-admin-token"
export HANGAR_PUBLISH_TOKENS="demo=local-cluster-publish-token"

urls=()
for i in 0 1 2; do
    name="node-$(printf "\\x$(printf %x $((97 + i)))")"
    node_port=$((port + i))
    dir="target/cluster/$name"
    mkdir -p "$dir"
    url="http://127.0.0.1:$node_port"
    # The first node publishes the demo's plugins; the others find them
    # installed and restore them from the shared registry.
    HANGAR_NODE_ID="$name" HANGAR_PUBLIC_URL="$url" \
        "$hangar" serve --demo --plugins-dir plugins --data-dir "$dir/data" \
        --listen "127.0.0.1:$node_port" >"$dir/out.log" 2>"$dir/err.log" &
    pids+=("$!")
    for _ in $(seq 600); do
        grep -q "^listening on" "$dir/out.log" 2>/dev/null && break
        kill -0 "${pids[-1]}" 2>/dev/null || { cat "$dir/err.log"; exit 1; }
        sleep 0.2
    done
    urls+=("$url")
done

echo
echo "three nodes, one cluster (logs in target/cluster/NODE/err.log):"
for url in "${urls[@]}"; do echo "  $url   chat: $url/chat"; done
echo "  node list: curl ${urls[0]}/api/lbs"
echo "  admin token: $HANGAR_ADMIN_TOKEN   publish token: ${HANGAR_PUBLISH_TOKENS#demo=}"
echo "  per node: curl -H 'authorization: Bearer $HANGAR_ADMIN_TOKEN' ${urls[0]}/api/admin/cluster/plugins"
echo "Ctrl-C stops the cluster."
wait
