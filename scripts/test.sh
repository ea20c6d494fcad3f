#!/usr/bin/env bash
# make test: the same services as make run, a throw-away test database per run (the
# `fiscaflow` database is never touched), the whole pytest suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/ensure-secrets.sh
source scripts/services.sh
ensure_services
trap stop_started_services EXIT
# The Elasticsearch contract cases run against the node ensure_services found or started.
if [ -n "${SEARCH_NODE_URL:-}" ]; then
  export TEST_ELASTICSEARCH_URL="$SEARCH_NODE_URL" SEARCH_FLAVOUR="$SEARCH_NODE_FLAVOUR"
fi
# CI runs the whole suite through PgBouncer in transaction mode, as production runs
# (administration such as CREATE DATABASE still goes straight to PostgreSQL).
if [ "${CI:-}" = true ] || [ -n "${TEST_THROUGH_PGBOUNCER:-}" ]; then
  port_open "$PGBOUNCER_PORT" || { echo "test: PgBouncer is required here" >&2; exit 1; }
  export TEST_DATABASE_BASE_URL="postgresql://postgres@127.0.0.1:$PGBOUNCER_PORT/postgres"
  echo "test: the suite connects through PgBouncer on :$PGBOUNCER_PORT"
fi
set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
exit $rc
