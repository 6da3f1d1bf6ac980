#!/usr/bin/env bash
# Runs every test of the project: Go vet and the Go tests with the race
# detector, then the TypeScript client's tests (Node and headless Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== go vet"
go vet ./...
echo "== go test -race"
go test -race -count=1 ./...
echo "== server and client integration tests over the gobwasws and epoll transports"
for t in gobwas epoll; do
  SWILL_TEST_TRANSPORT=$t go test -race -count=1 ./swill/ ./clientgo/
done

echo "== bench (smoke run of every peer and scenario with tiny counts)"
go -C bench vet ./...
go -C bench test -count=1 ./...

echo "== clientts (Node and headless Chromium)"
(cd clientts && npm ci --no-audit --no-fund && npm test)

echo "== generated TypeScript, playground bundle and browser tests"
SWILL_NODE_TESTS=1 go test -race -count=1 -run 'TestGenTS|TestBundleUpToDate|TestPageLogic|TestBrowser' ./cmd/swill/ ./playground/
