# Sourced by the scripts that need an S3-compatible server: moto, from
# PyPI (the machine's, or installed into target/moto-venv).
#
#   start_moto PORT LOG   starts it on 127.0.0.1:PORT, logging to LOG, waits
#                         until it answers, and sets moto_pid
start_moto() {
    local port=$1 log=$2 moto=(python3 -m moto.server)
    if ! python3 -c 'import moto.server, flask, flask_cors' 2>/dev/null; then
        local venv=target/moto-venv
        [ -x "$venv/bin/moto_server" ] || {
            python3 -m venv "$venv"
            "$venv/bin/pip" install -q 'moto[server]==5.2.1'
        }
        moto=("$venv/bin/moto_server")
    fi
    mkdir -p "$(dirname "$log")"
    "${moto[@]}" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
    moto_pid=$!
    for _ in $(seq 100); do
        python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/')" 2>/dev/null && return 0
        sleep 0.2
    done
    kill "$moto_pid" 2>/dev/null
    echo "moto did not answer on port $port (see $log)" >&2
    return 1
}
