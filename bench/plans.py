"""Let the service's pool prepare statements, to compare generic and custom plans.

The pool never prepares (`chalicelib/infra/db.py` says why); a benchmark given
--prepare-threshold N patches the pool class before the pool is first opened.
"""


def prepare_after(threshold: int) -> None:
    from chalicelib.infra import db

    pool_class = db.ConnectionPool

    def pool_preparing(*args, **kwargs):
        kwargs["kwargs"] = {**kwargs["kwargs"], "prepare_threshold": threshold}
        return pool_class(*args, **kwargs)

    db.ConnectionPool = pool_preparing
