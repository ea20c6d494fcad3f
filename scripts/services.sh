#!/usr/bin/env bash
# Sourced by run.sh and test.sh. ensure_services makes PostgreSQL, Redis and the
# S3-compatible server answer on 127.0.0.1, in this order of preference: use what
# runs; start what is installed but stopped; install from Debian packages (as root);
# else, where a Docker engine answers, the compose file. Whatever it starts is
# recorded in STARTED_SERVICES so the caller can stop exactly that and nothing else.

STARTED_SERVICES=()
PY=.venv/bin/python
port_open() { "$PY" scripts/port_open.py 127.0.0.1 "$1" "${2:-0}"; }

apt_install() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "services: installing $* from Debian packages"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    return 1
  fi
}

docker_up() {
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    echo "services: starting $* with docker compose"
    docker compose -f localstack-compose.yml up -d "$@" && STARTED_SERVICES+=("compose:$*")
  else
    return 1
  fi
}

ensure_postgres() {
  port_open 5432 && return 0
  if ! command -v pg_ctlcluster >/dev/null; then
    if ! apt_install postgresql postgresql-contrib; then
      docker_up postgres && port_open 5432 60 && return 0
      echo "services: PostgreSQL is not running and cannot be installed here" >&2; return 1
    fi
  fi
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n1)
  # A Debian cluster asks for passwords on TCP, whether we installed it or the machine came
  # with it; the local default URL has none. Only loopback lines are changed.
  [ "$(id -u)" = 0 ] && sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' \
    "/etc/postgresql/$version/main/pg_hba.conf"
  echo "services: starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  STARTED_SERVICES+=("postgres:$version")
  port_open 5432 30
}

ensure_redis() {
  port_open 6379 && return 0
  if ! command -v redis-server >/dev/null; then
    apt_install redis-server || { docker_up redis && port_open 6379 30 && return 0; }
  fi
  command -v redis-server >/dev/null || { echo "services: Redis unavailable" >&2; return 1; }
  echo "services: starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --pidfile "$PWD/.local/redis.pid" --logfile "$PWD/.local/redis.log"
  STARTED_SERVICES+=("redis")
  port_open 6379 15
}

ensure_s3() {
  port_open 9000 && return 0
  echo "services: starting the S3-compatible server (moto) on :9000"
  nohup .venv/bin/moto_server -H 127.0.0.1 -p 9000 > .local/moto.log 2>&1 &
  echo $! > .local/moto.pid
  STARTED_SERVICES+=("moto")
  port_open 9000 30
}

# A MinIO server on :9000 where Go exists and nothing answers there yet; ensure_s3 then
# finds it and does not start moto. MinIO's community edition is source-only and
# unmaintained upstream: tools/minio/build.sh builds its last commit once from the Go
# module proxy into .local/bin. Any failure here leaves moto as the fallback.
ensure_minio() {
  [ "${MINIO:-1}" = 0 ] && return 0
  local port=${MINIO_PORT:-9000}  # another port only to try this function beside a running S3 server
  port_open "$port" && return 0
  local bin=.local/bin/minio
  if [ ! -x "$bin" ] || [ ! -f .local/bin/minio.version ]; then
    command -v go >/dev/null || return 0
    echo "services: building MinIO from the Go module proxy (once; a few minutes)"
    bash tools/minio/build.sh > .local/minio-build.log 2>&1 \
      || { echo "services: MinIO build failed (.local/minio-build.log); using moto" >&2; return 0; }
  fi
  echo "services: starting MinIO on :$port"
  MINIO_ROOT_USER=minioadmin MINIO_ROOT_PASSWORD=minioadmin MINIO_BROWSER=off \
    nohup "$bin" server "$PWD/.local/minio-data" --address "127.0.0.1:$port" --quiet > .local/minio.log 2>&1 &
  echo $! > .local/minio.pid
  STARTED_SERVICES+=("minio")
  port_open "$port" 60
}

# A search node on :9200 (tools/search-node: OpenSearch 2.19 from Maven Central in one JVM)
# where java and mvn exist; the first run resolves the jars (~80 MB), later ones start in
# seconds. Exports SEARCH_NODE_URL/SEARCH_NODE_FLAVOUR for the caller; without java and
# mvn nothing is exported and search stays on PostgreSQL. ELASTICSEARCH=0 skips it.
ensure_elasticsearch() {
  [ "${ELASTICSEARCH:-}" = 0 ] && return 0
  local port=${SEARCH_NODE_PORT:-9200}
  if ! port_open "$port"; then
    command -v java >/dev/null && command -v mvn >/dev/null || return 0
    local dir=tools/search-node offline=()
    [ "$dir/target/classpath.txt" -nt "$dir/pom.xml" ] && offline=(-o)
    echo "services: preparing the search node (first run resolves its jars from Maven Central)"
    mvn -q -B "${offline[@]}" -f "$dir/pom.xml" compile > .local/search-node-build.log 2>&1 \
      || { echo "services: search node build failed (.local/search-node-build.log)" >&2; return 0; }
    echo "services: starting the search node on :$port"
    nohup java -Xms512m -Xmx1g -Dfiscaflow.port="$port" -Dfiscaflow.base="$PWD/.local/search-node" \
      -cp "$dir/target/classes:$(cat "$dir/target/classpath.txt")" fiscaflow.SearchNode > .local/search-node.log 2>&1 &
    echo $! > .local/search-node.pid
    STARTED_SERVICES+=("search-node")
    port_open "$port" 120 || { echo "services: the search node did not answer (.local/search-node.log)" >&2; return 0; }
  fi
  SEARCH_NODE_FLAVOUR=$("$PY" scripts/search_flavour.py "http://127.0.0.1:$port") || return 0
  export SEARCH_NODE_URL="http://127.0.0.1:$port" SEARCH_NODE_FLAVOUR
}

# PgBouncer (Debian's, 1.18) in transaction mode on 127.0.0.1:6432, every database passed to
# 127.0.0.1:5432: how production reaches PostgreSQL (RDS Proxy/PgBouncer). CI runs the whole
# suite through it (test.sh). TLS on both legs where a certificate is at hand (Debian's
# snakeoil pair, which its PostgreSQL uses too); the server leg uses TLS when offered.
PGBOUNCER_PORT=6432
ensure_pgbouncer() {
  port_open "$PGBOUNCER_PORT" && return 0
  local bin
  bin=$(command -v pgbouncer || ls /usr/sbin/pgbouncer 2>/dev/null) || { apt_install pgbouncer && bin=/usr/sbin/pgbouncer; } ||
    { echo "services: PgBouncer unavailable" >&2; return 1; }
  # Its files live outside the checkout: as root PgBouncer runs as postgres, which may not be
  # able to reach a clone under /root.
  local dir key=/etc/ssl/private/ssl-cert-snakeoil.key cert=/etc/ssl/certs/ssl-cert-snakeoil.pem
  dir=$(mktemp -d /tmp/fiscaflow-pgbouncer.XXXXXX)
  echo "$dir" > .local/pgbouncer.dir
  echo '"postgres" ""' > "$dir/userlist.txt"
  {
    echo "[databases]"
    echo "* = host=127.0.0.1 port=5432"
    echo "[pgbouncer]"
    echo "listen_addr = 127.0.0.1"
    echo "listen_port = $PGBOUNCER_PORT"
    echo "unix_socket_dir ="
    echo "auth_type = trust"
    echo "auth_file = $dir/userlist.txt"
    echo "pool_mode = transaction"
    echo "max_client_conn = 400"
    echo "default_pool_size = 10"
    echo "ignore_startup_parameters = extra_float_digits"
    echo "log_connections = 0"
    echo "log_disconnections = 0"
    echo "server_tls_sslmode = prefer"
    if [ -r "$key" ] && [ -r "$cert" ]; then
      echo "client_tls_sslmode = allow"
      echo "client_tls_key_file = $key"
      echo "client_tls_cert_file = $cert"
    fi
    echo "logfile = $dir/pgbouncer.log"
    echo "pidfile = $dir/pgbouncer.pid"
  } > "$dir/pgbouncer.ini"
  # PgBouncer will not run as root; Debian's postgres user can read the snakeoil key (ssl-cert).
  local as=()
  if [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1; then as=(-u postgres); chown -R postgres "$dir"; fi
  chmod 755 "$dir"
  echo "services: starting PgBouncer (transaction mode) on :$PGBOUNCER_PORT"
  "$bin" -d "${as[@]}" "$dir/pgbouncer.ini" || return 1
  STARTED_SERVICES+=("pgbouncer")
  port_open "$PGBOUNCER_PORT" 15
}

ensure_services() {
  mkdir -p .local
  ensure_minio; ensure_elasticsearch
  ensure_postgres && ensure_redis && ensure_s3 || return 1
  ensure_pgbouncer || echo "services: continuing without PgBouncer (the app connects to PostgreSQL directly)" >&2
}

stop_started_services() {
  local s
  for s in "${STARTED_SERVICES[@]}"; do
    case "$s" in
      moto) kill "$(cat .local/moto.pid)" 2>/dev/null || true ;;
      minio) kill "$(cat .local/minio.pid)" 2>/dev/null || true ;;
      search-node) kill "$(cat .local/search-node.pid)" 2>/dev/null || true ;;
      redis) kill "$(cat .local/redis.pid)" 2>/dev/null || true ;;
      pgbouncer)
        local pgb_dir
        pgb_dir=$(cat .local/pgbouncer.dir 2>/dev/null) || continue
        kill "$(cat "$pgb_dir/pgbouncer.pid")" 2>/dev/null || true
        rm -rf "$pgb_dir" ;;
      postgres:*) pg_ctlcluster --skip-systemctl-redirect "${s#postgres:}" main stop || true ;;
      compose:*) docker compose -f localstack-compose.yml stop ${s#compose:} || true ;;
    esac
  done
  STARTED_SERVICES=()
}
