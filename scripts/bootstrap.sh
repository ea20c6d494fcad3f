#!/usr/bin/env bash
# Creates .venv at the repo root and installs the pinned dependencies; a no-op when
# nothing changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."

pick_python() {
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 11) else 1)'; then
      echo "$candidate"; return 0
    fi
  done
  return 1
}

if [ ! -x .venv/bin/python ]; then
  py=$(pick_python) || { echo "bootstrap: Python 3.11 or newer is required" >&2; exit 1; }
  if ! "$py" -m venv .venv 2>/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
      rm -rf .venv && "$py" -m venv .venv
    else
      echo "bootstrap: '$py -m venv' failed; install python3-venv" >&2; exit 1
    fi
  fi
fi

# pdftoppm/pdftotext (Debian's poppler-utils): the export tests render and read the PDF report.
if ! command -v pdftoppm >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (apt-get install -y -qq poppler-utils >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get install -y -qq poppler-utils >/dev/null; }) ||
    echo "bootstrap: could not install poppler-utils; the PDF export tests will be skipped" >&2
fi

stamp=.venv/.fiscaflow-deps
want=$(cat requirements.txt requirements-dev.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "bootstrap: installing dependencies into .venv"
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt 2>&1 | grep -v '^WARNING: Location' || true
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -e . 2>&1 | grep -v '^WARNING: Location' || true
  .venv/bin/python -c 'import chalice, psycopg, redis, minio, moto, pytest' # fail loudly if the install did not take
  echo "$want" > "$stamp"
fi
