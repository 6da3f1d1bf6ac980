#!/usr/bin/env bash
# Runs every test of the project: Go vet and the Go tests with the race
# detector (Redis tests against a real redis-server), a short fuzz pass,
# then the TypeScript client's tests (Node and headless Chromium).
#
# On a fresh Debian machine it installs what is missing (chromium,
# redis-server) when run as root; otherwise it stops at once with one line
# saying what to install. Unless SWILL_REDIS_URL is set, it starts its own
# redis-server on a free loopback port (no persistence, in a temporary
# directory, stopped on exit) and exports SWILL_REDIS_URL for the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

die() {
  echo "scripts/test.sh: $*" >&2
  exit 1
}

# --- tools: Go 1.25+, Node 20+ -------------------------------------------
command -v go >/dev/null 2>&1 || die "Go 1.25 or newer is needed: install it from https://go.dev/dl/"
gov=$(go env GOVERSION) # go1.25.3, or devel ...
if [[ $gov =~ ^go([0-9]+)\.([0-9]+) ]]; then
  if ((BASH_REMATCH[1] == 1 && BASH_REMATCH[2] < 25)); then
    die "Go 1.25 or newer is needed, found $gov: install it from https://go.dev/dl/"
  fi
fi
command -v node >/dev/null 2>&1 || die "Node 20 or newer is needed: install it (apt-get install nodejs npm, or https://nodejs.org)"
command -v npm >/dev/null 2>&1 || die "npm is needed with Node: install it (apt-get install npm)"
nodev=$(node --version) # v20.11.1
nodemajor=${nodev#v}
nodemajor=${nodemajor%%.*}
((nodemajor >= 20)) || die "Node 20 or newer is needed, found $nodev: install it (https://nodejs.org)"
echo "== $gov, Node $nodev"

# --- system packages: chromium and redis-server ---------------------------
chromium_bin=${CHROMIUM_PATH:-${CHROMIUM:-}}
if [[ -z $chromium_bin ]]; then
  chromium_bin=$(command -v chromium || true)
fi
# redis-server is needed even with SWILL_REDIS_URL set: the fault tests stop
# and restart a private one.
redis_bin=$(command -v redis-server || true)
missing=()
[[ -n $chromium_bin ]] || missing+=(chromium)
[[ -n $redis_bin ]] || missing+=(redis-server)
if ((${#missing[@]} > 0)); then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends "${missing[@]}"
    chromium_bin=${chromium_bin:-$(command -v chromium || true)}
    redis_bin=$(command -v redis-server || true)
    [[ -n $chromium_bin && -n $redis_bin ]] || die "apt-get did not provide ${missing[*]}: install it by hand"
  else
    die "missing ${missing[*]}: run apt-get install ${missing[*]} as root (or set CHROMIUM_PATH to a Chromium)"
  fi
fi
export CHROMIUM_PATH=$chromium_bin CHROMIUM=$chromium_bin

# --- a private redis-server, unless SWILL_REDIS_URL names one -------------
redis_dir=""
redis_pid=""
cleanup() {
  if [[ -n $redis_pid ]]; then
    kill "$redis_pid" 2>/dev/null || true
    wait "$redis_pid" 2>/dev/null || true
  fi
  if [[ -n $redis_dir ]]; then
    rm -rf "$redis_dir"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# port_open says whether something listens on 127.0.0.1:$1.
port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

if [[ -z ${SWILL_REDIS_URL:-} ]]; then
  redis_dir=$(mktemp -d)
  for _ in $(seq 1 20); do
    port=$((20000 + RANDOM % 40000))
    port_open "$port" && continue
    "$redis_bin" --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
      --dir "$redis_dir" --logfile "$redis_dir/redis.log" --daemonize no &
    redis_pid=$!
    for _ in $(seq 1 100); do
      port_open "$port" && break
      kill -0 "$redis_pid" 2>/dev/null || break
      sleep 0.05
    done
    if port_open "$port" && kill -0 "$redis_pid" 2>/dev/null; then
      break
    fi
    kill "$redis_pid" 2>/dev/null || true
    wait "$redis_pid" 2>/dev/null || true
    redis_pid=""
  done
  [[ -n $redis_pid ]] || die "could not start redis-server on a free loopback port (log: $(cat "$redis_dir/redis.log" 2>/dev/null | tail -n 3))"
  export SWILL_REDIS_URL="redis://127.0.0.1:$port/0"
  echo "== redis-server on 127.0.0.1:$port (SWILL_REDIS_URL=$SWILL_REDIS_URL)"
fi

# --- the tests -------------------------------------------------------------
echo "== go vet"
go vet ./...
echo "== go test -race"
go test -race -count=1 ./...
echo "== server and client integration tests over the gobwasws and epoll transports"
for t in gobwas epoll; do
  SWILL_TEST_TRANSPORT=$t go test -race -count=1 ./swill/ ./clientgo/
done

echo "== fuzz (a few seconds per target; go test -fuzz with a longer -fuzztime digs deeper)"
while read -r pkg target; do
  if ! out=$(go test -run='^$' -fuzz="^${target}\$" -fuzztime=3s -parallel=1 "$pkg" 2>&1); then
    echo "$out" >&2
    die "fuzz target $target of $pkg failed (the failing input is saved under its testdata/fuzz)"
  fi
  echo "ok   $pkg $target"
done < <(grep -rl --include='*_test.go' --exclude-dir=node_modules '^func Fuzz' . | grep -v '^./bench/' | while read -r f; do
  sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$f" | while read -r fn; do
    echo "./$(dirname "${f#./}")/ $fn"
  done
done | sort)

echo "== bench (smoke run of every peer and scenario with tiny counts)"
go -C bench vet ./...
go -C bench test -count=1 ./...

echo "== clientts (Node and headless Chromium)"
(cd clientts && npm ci --no-audit --no-fund && npm test)

echo "== generated TypeScript, playground bundle and browser tests"
SWILL_NODE_TESTS=1 go test -race -count=1 -run 'TestGenTS|TestBundleUpToDate|TestPageLogic|TestBrowser' ./cmd/swill/ ./playground/ ./examples/demo/chat/
