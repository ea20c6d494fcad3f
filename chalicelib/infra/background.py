"""Work that follows a commit without holding up the request that made it: run on a
small worker pool once the unit of work commits; the caller waits for it at most
`live_push_wait_ms` (0 locally; a Lambda, frozen when it returns, waits a little).
Best effort: whatever must happen has a scheduled job behind it as well."""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_for

from chalicelib.infra import db
from chalicelib.infra.logging import logger
from chalicelib.infra.settings import get_settings

_pool: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="after-commit")
        return _pool


def _run(work: Callable[[], None]) -> None:
    try:
        work()
    except Exception:
        logger.exception("after-commit background work failed")


def start(work: Callable[[], None]) -> None:
    """Run `work` on the pool now (bounded wait, see above)."""
    future = _executor().submit(_run, work)
    wait_ms = get_settings().live_push_wait_ms
    if wait_ms:
        wait_for([future], timeout=wait_ms / 1000)


def after_commit(work: Callable[[], None]) -> None:
    """Run `work` in the background once the current unit of work commits (never if it rolls back)."""
    db.after_commit(lambda: start(work))
