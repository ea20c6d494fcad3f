"""Answers whose time must not depend on what was found.

A password-reset request for an address with an account does more work (a token, an
audit row, an email) than one for an unknown address, and the difference showed in
the response time (90 ms against 48 ms median): the endpoint told who has an account.
Lambda cannot keep working after it has answered, so the answer is padded instead: it
leaves no sooner than a fixed time after the request began."""

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from chalicelib.infra.logging import logger

# Swappable so tests can prove the padding without measuring time.
clock: Callable[[], float] = time.monotonic
sleep: Callable[[float], None] = time.sleep


@contextmanager
def answer_no_sooner_than(seconds: float, *, what: str) -> Iterator[None]:
    """Pad the block to `seconds`; work that overran it is padded to the next multiple,
    so a slow dependency shows as one of a few fixed durations, never as the work's own."""
    start = clock()
    try:
        yield
    finally:
        elapsed = clock() - start
        if seconds > 0:
            steps = max(1, math.ceil(elapsed / seconds))
            if steps > 1:
                logger.warning("answer padding overran", extra={"what": what, "elapsed_ms": round(elapsed * 1000)})
            sleep(max(0.0, steps * seconds - elapsed))
