"""Running work in threads that start at the same moment, as concurrent requests or workers
do, each with its own database connection (closed after).

    results, errors = at_once(lambda index: client.post(...), threads=12)
"""
import threading
from collections.abc import Callable
from typing import Any


def at_once(work: Callable[[int], Any], *,
            threads: int) -> tuple[list[Any], list[BaseException]]:
    """Run `work(index)` in `threads` threads released together by a barrier. Returns what
    the calls returned and what they raised, in finishing order."""
    barrier = threading.Barrier(threads)
    results: list[Any] = []
    errors: list[BaseException] = []

    def target(index: int) -> None:
        from django.db import connection

        try:
            barrier.wait()
            results.append(work(index))
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)
        finally:
            connection.close()

    running = [threading.Thread(target=target, args=(index,)) for index in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()
    return results, errors
