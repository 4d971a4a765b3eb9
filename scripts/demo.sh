#!/usr/bin/env bash
# Starts the demo server: SQLite and files in ./data, the example plugins
# loaded and active. Extra arguments go to `hangar serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v rustup >/dev/null 2>&1; then
    rustup target add wasm32-wasip2
fi
cargo build --release --target wasm32-wasip2 --manifest-path plugins/Cargo.toml
exec cargo run --release -p hangar-host --bin hangar -- serve --demo "$@"
