#!/usr/bin/env bash
# make run: services, database, bucket, migrations, then the API on :8000, the local
# event bridge and the local WebSocket gateway (:8001) together. Ctrl-C stops what this
# started, and nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
bash scripts/bootstrap.sh
bash scripts/ensure-secrets.sh
source scripts/services.sh
ensure_services

pids=()
cleanup() {
  trap - INT TERM EXIT
  echo "stopping..."
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  stop_started_services
}
trap cleanup INT TERM EXIT

.venv/bin/fiscaflow setup
# make run ELASTICSEARCH=1: search and analytics from the node, fed by search-sync.
if [ "${ELASTICSEARCH:-}" = 1 ]; then
  [ -n "${SEARCH_NODE_URL:-}" ] || { echo "run: ELASTICSEARCH=1 but no search node (java and mvn?)" >&2; exit 1; }
  export ELASTICSEARCH_URL="$SEARCH_NODE_URL" SEARCH_FLAVOUR="$SEARCH_NODE_FLAVOUR"
  .venv/bin/fiscaflow search init
  .venv/bin/fiscaflow search reindex
fi
# Live updates: a write hands its pushes to the push function (app.py live_push), which
# the gateway below runs in its own process, as Lambda would: the API and the bridge reach
# it through the Lambda Invoke API the gateway answers on :8002.
export LIVE_PUSH_FUNCTION=fiscaflow-local-live_push LIVE_PUSH_INVOKE_ENDPOINT=http://127.0.0.1:8002
.venv/bin/fiscaflow bridge &
pids+=($!)
# Live updates: chalice local serves no WebSockets; this gateway does what API Gateway's
# WebSocket API does (ws://127.0.0.1:8001, its management API on :8002).
.venv/bin/fiscaflow ws-gateway --port 8001 --management-port 8002 &
pids+=($!)
# --no-autoreload: without it chalice forks a reloader child that Ctrl-C leaves behind.
.venv/bin/chalice local --no-autoreload --host 127.0.0.1 --port 8000 --stage local &
pids+=($!)
if "$PY" scripts/port_open.py 127.0.0.1 8000 60; then
  echo "FiscaFlow API on http://127.0.0.1:8000, live updates on ws://127.0.0.1:8001 (ready after $(( $(date +%s) - started ))s); Ctrl-C stops it"
fi
wait -n "${pids[@]}"
