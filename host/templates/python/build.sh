#!/usr/bin/env sh
# Builds {{module}}.wasm from app.py with componentize-py {{componentize_py}}
# (installed with pip when another version or none is on the PATH).
set -eu
cd "$(dirname "$0")"
if ! componentize-py --version 2>/dev/null | grep -qx "componentize-py {{componentize_py}}"; then
    pip install --quiet "componentize-py=={{componentize_py}}"
fi
componentize-py -d wit -w {{world}} componentize app -o {{module}}.wasm
