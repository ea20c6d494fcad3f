"""Let the service's pool prepare statements, to compare generic and custom plans.

The pool never prepares (`chalicelib/infra/db.py` says why); a benchmark given
--prepare-threshold N patches the pool class before the pool is first opened.
"""

import argparse


def add_prepare_threshold(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--prepare-threshold",
        type=int,
        metavar="N",
        help="let psycopg prepare statements after N runs (default: never, as the service's pool)",
    )


def prepare_after(threshold: int | None) -> None:
    if threshold is None:
        return
    from chalicelib.infra import db

    pool_class = db.ConnectionPool

    def pool_preparing(*args, **kwargs):
        kwargs["kwargs"] = {**kwargs["kwargs"], "prepare_threshold": threshold}
        return pool_class(*args, **kwargs)

    db.ConnectionPool = pool_preparing
