"""`fiscaflow`: the operator's command line.

fiscaflow setup            create database and bucket, apply migrations
fiscaflow migrate          apply pending migrations
fiscaflow run NAME [--dry-run]   run one scheduled job now
fiscaflow jobs             list the scheduled jobs
fiscaflow restore KEY [--database-url URL]   load a backup into an empty database
fiscaflow restore-files KEY  put back the objects of a files backup (checksums verified)
fiscaflow bridge           run the local event bridge (S3 events and schedules)
fiscaflow ws-gateway       run the local WebSocket gateway (:8001, management API :8002)
fiscaflow search init|reindex   create the search indices / rebuild them from PostgreSQL
"""

import argparse
import json
import signal
import sys
import threading
import time


def _cmd_migrate(args) -> int:
    from chalicelib.infra.migrations import ensure_database, migrate
    from chalicelib.infra.settings import get_settings

    url = get_settings().database_url
    if ensure_database(url):
        print("created database")
    started = time.monotonic()
    applied = migrate(url)
    print(
        f"migrations: {len(applied)} applied ({', '.join(applied) or 'none pending'}) "
        f"in {time.monotonic() - started:.2f}s"
    )
    return 0


def _cmd_setup(args) -> int:
    from chalicelib.infra import storage

    _cmd_migrate(args)
    storage.ensure_bucket()
    print(f"bucket {storage.bucket()} ready")
    return 0


def _cmd_run(args) -> int:
    from chalicelib.jobs import run_job

    started = time.monotonic()
    report = run_job(args.name, dry_run=args.dry_run)
    print(
        json.dumps({"job": args.name, "seconds": round(time.monotonic() - started, 3), "report": report}, default=str)
    )
    return 0


def _cmd_restore(args) -> int:
    from dataclasses import asdict

    from chalicelib.backups.restore import RestoreFailed, restore

    try:
        report = restore(args.key, database_url=args.database_url)
    except RestoreFailed as exc:
        print(f"fiscaflow: restore refused: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({"restore": args.key, "report": asdict(report)}, default=str))
    return 0


def _cmd_restore_files(args) -> int:
    from dataclasses import asdict

    from chalicelib.backups.files import RestoreFilesFailed, restore_files

    try:
        report = restore_files(args.key)
    except RestoreFilesFailed as exc:
        print(f"fiscaflow: restore-files refused: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({"restore-files": args.key, "report": asdict(report)}, default=str))
    return 0


def _cmd_jobs(args) -> int:
    from chalicelib.jobs import JOBS

    for job in JOBS.values():
        print(f"{job.name:20} {job.description}")
    return 0


def _cmd_bridge(args) -> int:
    import importlib

    from chalicelib.local.bridge import LocalEventBridge, routes_of

    app_module = importlib.import_module("app")
    bridge = LocalEventBridge(*routes_of(app_module))
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print("local event bridge running", flush=True)
    bridge.run_forever(stop)
    return 0


def _cmd_ws_gateway(args) -> int:
    import importlib

    from chalicelib.local.ws_gateway import LocalWebsocketGateway, functions_of, handlers_of

    app_module = importlib.import_module("app")
    gateway = LocalWebsocketGateway(
        handlers_of(app_module),
        host=args.host,
        port=args.port,
        management_port=args.management_port,
        functions=functions_of(app_module),
    ).start()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(
        f"local WebSocket gateway on {gateway.url} (management API and Lambda Invoke API {gateway.management_url})",
        flush=True,
    )
    stop.wait()
    gateway.stop()
    return 0


def _cmd_search(args) -> int:
    from dataclasses import asdict

    from chalicelib.infra import es_client
    from chalicelib.search import indices

    if not es_client.configured():
        print("fiscaflow: ELASTICSEARCH_URL is not set; search runs on PostgreSQL (nothing to do)", file=sys.stderr)
        return 2
    report = indices.init() if args.action == "init" else indices.reindex()
    print(json.dumps({"search": args.action, "report": asdict(report)}, default=str))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fiscaflow", description="FiscaFlow operations")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply pending SQL migrations").set_defaults(func=_cmd_migrate)
    sub.add_parser("setup", help="database, migrations and bucket").set_defaults(func=_cmd_setup)
    run = sub.add_parser("run", help="run one scheduled job now")
    run.add_argument("name")
    run.add_argument("--dry-run", action="store_true", help="report what would change, change nothing")
    run.set_defaults(func=_cmd_run)
    sub.add_parser("jobs", help="list scheduled jobs").set_defaults(func=_cmd_jobs)
    restore = sub.add_parser("restore", help="load a backup (backups/database/...) into an empty database")
    restore.add_argument("key")
    restore.add_argument("--database-url", help="target database (default: DATABASE_URL); created if missing")
    restore.set_defaults(func=_cmd_restore)
    restore_files = sub.add_parser("restore-files", help="put back the objects of a files backup, checksums verified")
    restore_files.add_argument("key", help="backups/files/….tar.gz")
    restore_files.set_defaults(func=_cmd_restore_files)
    sub.add_parser("bridge", help="run the local event bridge").set_defaults(func=_cmd_bridge)
    gateway = sub.add_parser("ws-gateway", help="run the local WebSocket gateway (live updates)")
    gateway.add_argument("--host", default="127.0.0.1")
    gateway.add_argument("--port", type=int, default=8001)
    gateway.add_argument("--management-port", type=int, default=8002)
    gateway.set_defaults(func=_cmd_ws_gateway)
    search = sub.add_parser("search", help="Elasticsearch indices: init (idempotent) or reindex (alias swap)")
    search.add_argument("action", choices=["init", "reindex"])
    search.set_defaults(func=_cmd_search)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KeyError as exc:
        print(f"fiscaflow: {exc.args[0]}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
