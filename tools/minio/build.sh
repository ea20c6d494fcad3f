#!/usr/bin/env bash
# Build the MinIO server into .local/bin/minio from the Go module proxy, at the pinned
# last commit of the community edition (source-only, unmaintained upstream), plus one
# file: flush_fix.go.txt (ListenBucketNotification never flushes without it; see there).
# `go install github.com/minio/minio@$MINIO_MODULE_VERSION` gives the same server without
# that fix. The first build takes a few minutes on 2 cores; later ones reuse Go's cache.
set -euo pipefail
cd "$(dirname "$0")/../.."
MINIO_MODULE_VERSION=${MINIO_MODULE_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}
module_dir=$(go mod download -json "github.com/minio/minio@$MINIO_MODULE_VERSION" \
  | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$module_dir" ] || { echo "minio: module download failed" >&2; exit 1; }
src=.local/minio-src
rm -rf "$src" && mkdir -p .local/bin && cp -R "$module_dir" "$src" && chmod -R u+w "$src"
cp tools/minio/flush_fix.go.txt "$src/cmd/zz_fiscaflow_flush_fix.go"
(cd "$src" && GOFLAGS=-buildvcs=false go build -trimpath -o "$OLDPWD/.local/bin/minio.new" .)
mv .local/bin/minio.new .local/bin/minio
echo "$MINIO_MODULE_VERSION+flush-fix" > .local/bin/minio.version
rm -rf "$src"
