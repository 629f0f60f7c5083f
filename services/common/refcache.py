"""An in-process cache for reference data that rarely changes (the division
tree, service fields, settings), so a call that only reads it needs no
database round trip.

Invalidation: the process that changes the data clears the cache when its
transaction commits (:func:`clear_after_commit`); other processes (api
replicas) see the change when their entry's time to live runs out. Misses
and errors are never cached, so a row created elsewhere is found at once.

Example::

    DIVISIONS = RefCache(ttl_seconds=60)
    div = DIVISIONS.get_or_load(code, lambda: load_from_database(code))
    ...
    clear_after_commit(session, DIVISIONS)   # in the transaction that renames
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session

T = TypeVar("T")


class RefCache:
    """A bounded, thread-safe LRU whose entries live ``ttl_seconds``."""

    def __init__(
        self,
        ttl_seconds: float = 60.0,
        max_entries: int = 65536,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.ttl, self.max_entries, self._clock = ttl_seconds, max_entries, clock
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._generation = 0

    def get_or_load(self, key: Hashable, load: Callable[[], T]) -> T:
        """The cached value of ``key``, or ``load()``'s (cached if it returns)."""
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] > now:
                self._entries.move_to_end(key)
                return entry[1]
            generation = self._generation
        value = load()
        with self._lock:
            # A clear() while loading may mean the value is already stale.
            if generation == self._generation:
                self._entries[key] = (now + self.ttl, value)
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._generation += 1


def clear_after_commit(session: Session, cache: RefCache) -> None:
    """Clear ``cache`` now and again once ``session`` commits, so no reader
    keeps a value loaded between the change and its commit."""
    cache.clear()
    event.listen(session, "after_commit", lambda _s: cache.clear(), once=True)
