#!/usr/bin/env bash
# Hearth and Synapse side by side on this machine: the same hearth-bench workloads against
# each, one server after the other, each with fresh data; prints the Hearth/Synapse table and
# writes BENCHMARKS.md at the repository root.
#
# usage: bench/compare.sh [--quick] [--only WORKLOAD,...] [--no-doc]
#   --quick    smaller sizes (under 3 minutes once built)
#   --only     run only these workloads (register,create_rooms,send,fanout,initial_sync,
#              messages,big_room,resources); startup is always measured
#   --no-doc   print the table but leave BENCHMARKS.md alone
#
# Synapse is installed from PyPI into $CARGO_TARGET_DIR/bench/synapse-venv (or target/...),
# reused when present. Ports: Hearth 28008, Synapse 28018 (HEARTH_PORT, SYNAPSE_PORT).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
work=$target/bench
venv=$work/synapse-venv
results=$work/results
SYNAPSE_VERSION=${SYNAPSE_VERSION:-1.163.2}
HEARTH_PORT=${HEARTH_PORT:-28008}
SYNAPSE_PORT=${SYNAPSE_PORT:-28018}

quick=()
workloads=register,create_rooms,send,fanout,initial_sync,messages,big_room,resources
doc=yes
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=(--quick) ;;
    --only) workloads=$2; shift ;;
    --no-doc) doc=no ;;
    -h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "compare.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

log() { echo "== $*" >&2; }

# --- the one server running at a time: started here, always stopped on exit ----------------
server_pid=""
stop_server() {
  [ -n "$server_pid" ] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
trap stop_server EXIT
trap 'exit 130' INT TERM

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start_server NAME PORT LOG STARTUP_JSON|"" COMMAND...: start it, wait until it answers.
start_server() {
  local name=$1 port=$2 logfile=$3 out=$4
  shift 4
  if port_busy "$port"; then
    echo "compare.sh: port $port is already in use; stop what listens there" >&2
    exit 1
  fi
  local t0
  t0=$(date +%s%N)
  "$@" >"$logfile" 2>&1 &
  server_pid=$!
  local record=()
  [ -z "$out" ] || record=(--out "$out" --name "$name")
  if ! "$bench" wait --url "http://127.0.0.1:$port" --started-at-ns "$t0" --pid "$server_pid" "${record[@]}"; then
    echo "compare.sh: $name did not start; the end of $logfile:" >&2
    tail -n 30 "$logfile" >&2
    exit 1
  fi
}

has() { [[ ",$workloads," == *",$1,"* ]]; }
# The selected workloads other than register (which runs on its own server, see bench/method.md).
rest() { tr ',' '\n' <<<"$workloads" | grep -vx register | paste -sd, -; }

# run_server NAME PORT VERSION START_FN: phase 1 measures startup (and register), phase 2 runs
# the rest; each phase on a fresh server.
run_server() {
  local name=$1 port=$2 version=$3 start=$4
  local url=http://127.0.0.1:$port
  rm -f "$results/$name"-*.json
  log "$name: startup$(has register && echo ", register")"
  "$start" 1 "$results/$name-startup.json"
  if has register; then
    "$bench" run --url "$url" --name "$name" --server-version "$version" --pid "$server_pid" \
      "${quick[@]}" --only register --out "$results/$name-register.json"
  fi
  stop_server
  local others
  others=$(rest)
  [ -n "$others" ] || return 0
  log "$name: $others"
  "$start" 2 ""
  "$bench" run --url "$url" --name "$name" --server-version "$version" --pid "$server_pid" \
    "${quick[@]}" --only "$others" --out "$results/$name-main.json"
  stop_server
}

# --- Hearth ----------------------------------------------------------------------------------
start_hearth() {
  local data=$work/hearth-data
  rm -rf "$data"
  start_server hearth "$HEARTH_PORT" "$work/hearth.log" "$2" env \
    HEARTH_DATA_DIR="$data" \
    HEARTH_HTTP__LISTEN="[\"127.0.0.1:$HEARTH_PORT\"]" \
    HEARTH_REGISTRATION__ENABLED=true \
    HEARTH_RATE_LIMITS__ENABLED=false \
    HEARTH_PRESENCE__ENABLED=false \
    HEARTH_LOG=warn \
    "$target/release/hearth"
}

# --- Synapse ---------------------------------------------------------------------------------
install_synapse() {
  if [ "$("$venv/bin/python" -c 'import synapse; print(synapse.__version__)' 2>/dev/null)" = "$SYNAPSE_VERSION" ]; then
    return 0
  fi
  log "installing Synapse $SYNAPSE_VERSION from PyPI into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip
  "$venv/bin/pip" install -q "matrix-synapse==$SYNAPSE_VERSION"
}

# Fresh data and config: Synapse's own --generate-config (signing key, secrets), then our
# overrides in a second file (Synapse merges -c files, later top-level keys win).
start_synapse() {
  local phase=$1 dir=$work/synapse
  rm -rf "$dir"
  mkdir -p "$dir"
  "$venv/bin/python" -m synapse.app.homeserver --server-name localhost \
    --config-path "$dir/homeserver.yaml" --data-directory "$dir" \
    --generate-config --report-stats=no >/dev/null
  # Phase 1 measures registration with Synapse's default password hashing; phase 2 registers
  # thousands of users as setup, which bcrypt's default 12 rounds would make take an hour.
  local rounds=12
  [ "$phase" = 1 ] || rounds=4
  "$venv/bin/python" "$root/bench/synapse_overrides.py" "$dir" "$SYNAPSE_PORT" "$rounds" >"$dir/bench.yaml"
  start_server synapse "$SYNAPSE_PORT" "$work/synapse.log" "$2" \
    "$venv/bin/python" -m synapse.app.homeserver -c "$dir/homeserver.yaml" -c "$dir/bench.yaml"
}

# --- the run ---------------------------------------------------------------------------------
mkdir -p "$work" "$results"
install_synapse
log "building Hearth and hearth-bench (release)"
(cd "$root" && cargo build --release -q -p hearth -p hearth-bench)
bench=$target/release/hearth-bench

hearth_version="$("$target/release/hearth" --version) (release build)"
synapse_version="Synapse $("$venv/bin/python" -c 'import synapse; print(synapse.__version__)'), $("$venv/bin/python" --version)"
run_server hearth "$HEARTH_PORT" "$hearth_version" start_hearth
run_server synapse "$SYNAPSE_PORT" "$synapse_version" start_synapse

files() { for f in "$results/$1"-{startup,register,main}.json; do [ -f "$f" ] && printf -- "--$1\n%s\n" "$f"; done; }
mapfile -t hearth_files < <(files hearth)
mapfile -t synapse_files < <(files synapse)
commit=$(git -C "$root" rev-parse --short HEAD)
git -C "$root" diff --quiet HEAD -- crates || commit="$commit (with uncommitted changes)"
out=()
[ "$doc" = no ] || out=(--out "$root/BENCHMARKS.md" --notes "$root/bench/method.md")
"$bench" compare "${hearth_files[@]}" "${synapse_files[@]}" "${out[@]}" \
  --commit "$commit" --date "$(date -u '+%Y-%m-%d %H:%M UTC')"
