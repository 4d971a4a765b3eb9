#!/usr/bin/env bash
# Runs every check and test of the project. Installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."

section() { printf '\n==> %s\n' "$*"; }

section "toolchain"
if command -v rustup >/dev/null 2>&1; then
    rustup target add wasm32-wasip2
    rustup component add clippy rustfmt
fi

section "format"
cargo fmt --all -- --check
cargo fmt --all --manifest-path plugins/Cargo.toml -- --check

section "guests (plugins and test guests) for wasm32-wasip2"
cargo build --release --target wasm32-wasip2 --manifest-path plugins/Cargo.toml
cargo clippy --release --target wasm32-wasip2 --manifest-path plugins/Cargo.toml -- -D warnings

section "guest unit tests (host target)"
cargo test --manifest-path plugins/Cargo.toml

section "browser SDK: dependencies, bundle up to date, unit tests"
# The host serves sdk/js/dist (compiled into the binary); it must match the sources.
(cd sdk/js && npm ci --no-audit --no-fund && npm run check && node --test test/)

section "lint"
cargo clippy --workspace --all-targets -- -D warnings

section "tests (storage tests on SQLite, PostgreSQL when a server is named, and S3; cluster tests on NATS)"
# Everything started or made here is stopped or dropped on exit.
cleanups=()
cleanup() { for c in "${cleanups[@]}"; do eval "$c" || true; done; }
trap cleanup EXIT

# HANGAR_TEST_POSTGRES_SERVER: a PostgreSQL URL (any database there, no
# query string); this run makes a database of its own on that server and
# drops it at the end. Each test then works in a schema of its own.
if [ -n "${HANGAR_TEST_POSTGRES_SERVER:-}" ]; then
    command -v psql >/dev/null 2>&1 || {
        as_root=()
        [ "$(id -u)" = 0 ] || as_root=(sudo)
        "${as_root[@]}" apt-get update -qq
        DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends postgresql-client
    }
    run_db="hangar_run_$(date +%s)_$$"
    psql "$HANGAR_TEST_POSTGRES_SERVER" -qc "CREATE DATABASE $run_db"
    cleanups+=("psql \"$HANGAR_TEST_POSTGRES_SERVER\" -qc 'DROP DATABASE IF EXISTS $run_db WITH (FORCE)'")
    export HANGAR_TEST_POSTGRES_URL="${HANGAR_TEST_POSTGRES_SERVER%/*}/$run_db"
else
    echo "HANGAR_TEST_POSTGRES_SERVER is unset: the PostgreSQL variants of the storage tests are skipped"
fi

# An S3-compatible server for this run (moto, from PyPI) on a free loopback
# port; each test makes a bucket of its own there.
. scripts/lib/moto.sh
s3_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start_moto "$s3_port" target/moto.log
cleanups+=("kill $moto_pid")
export HANGAR_TEST_S3_ENDPOINT="http://127.0.0.1:$s3_port"
# HANGAR_TEST_NATS_URL: a NATS server (nats://HOST:PORT) for the cluster
# tests, which also need PostgreSQL; the broker-restart test starts a
# private nats-server of its own.
[ -n "${HANGAR_TEST_NATS_URL:-}" ] ||
    echo "HANGAR_TEST_NATS_URL is unset: the cluster tests are skipped"
cargo test --workspace

section "browser tests (headless Chromium)"
if ! command -v chromium >/dev/null 2>&1; then
    as_root=()
    [ "$(id -u)" = 0 ] || as_root=(sudo)
    "${as_root[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends chromium
fi
cargo build -p hangar-host --bin hangar
# tuspy, the tus project's Python client, for the tus test (the machine's
# Python if it has it, else a virtualenv of this checkout).
if python3 -c 'import tusclient' 2>/dev/null; then
    export HANGAR_TEST_PYTHON=python3
else
    [ -x target/tus-venv/bin/python ] && target/tus-venv/bin/python -c 'import tusclient' 2>/dev/null || {
        python3 -m venv target/tus-venv
        target/tus-venv/bin/pip install -q 'tuspy==1.1.0'
    }
    export HANGAR_TEST_PYTHON="$PWD/target/tus-venv/bin/python"
fi
(cd tests/browser && npm ci --no-audit --no-fund && node --test)

section "API fuzzing: schemathesis against the demo server's OpenAPI document"
scripts/schemathesis.sh
