#!/usr/bin/env bash
# make fuzz: schemathesis over /openapi.json against a private local stack (scripts/fuzz.py),
# bounded by FUZZ_MAX_TIME seconds (default 300). `make fuzz FUZZ_ARGS=--ci` is CI's short run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/ensure-secrets.sh
source scripts/services.sh
ensure_services
trap stop_started_services EXIT
set +e
.venv/bin/python scripts/fuzz.py "$@"
rc=$?
set -e
exit $rc
