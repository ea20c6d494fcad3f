#!/usr/bin/env bash
# Generates local signing and encryption keys once, into the git-ignored .env.local
# (read by the settings object). In AWS the same variables come from the stage's
# environment or SSM.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -s .env.local ]; then
  umask 077
  .venv/bin/python - > .env.local <<'PY'
import base64, secrets
print(f"JWT_SIGNING_KEY={secrets.token_urlsafe(48)}")
print(f"FIELD_ENCRYPTION_KEY={base64.b64encode(secrets.token_bytes(32)).decode()}")
print(f"LOOKUP_HASH_KEY={secrets.token_urlsafe(48)}")
PY
  echo "secrets: generated .env.local"
fi
