"""Background delivery: ``log_episode`` spools and returns; one daemon thread per client delivers, oldest
first.

The thread never raises into the user's code: every failure is a record's outcome (spec/SPOOL.md). Each
problem is warned about once per process through ``logging.getLogger("robotrace")``. At exit an ``atexit``
hook flushes for at most ``flush_timeout`` seconds; what is left stays on disk for the next process.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import random
import threading
import time
import weakref
from typing import TYPE_CHECKING

from ._spool_deliver import Outcome, deliver_one
from ._spool_store import Record, SpoolRefused, SpoolStore

if TYPE_CHECKING:
    from ._client import Client
    from ._episode import Episode

logger = logging.getLogger("robotrace")

MAX_BACKOFF_S = 60.0
# Records another process spooled (or released) are picked up within this.
RESCAN_S = 30.0
# While flushing a server that refuses at once, do not spin.
MIN_FLUSH_RETRY_S = 0.2
SWEEP_EVERY_S = 600.0


class SpoolWorker:
    def __init__(self, client: Client, store: SpoolStore, flush_timeout: float) -> None:
        # A weak reference: the worker must not keep a client the user dropped alive.
        self._client_ref = weakref.ref(client)
        self.store = store
        self.flush_timeout = flush_timeout
        self._pending: dict[str, Episode] = {}
        self._warned: set[str] = set()
        self._wake = threading.Event()
        self._cond = threading.Condition()
        self._passes_started = 0
        self._passes_done = 0
        self._last_idle_pass = 0
        self._flushing = 0
        self._stopped = False
        self._failures = 0
        self._last_sweep = 0.0
        # Records spooled by this process, not yet fsynced; and those that are.
        self._new: list[str] = []
        self._durable: set[str] = set()
        self._thread = threading.Thread(target=self._run, name="robotrace-spool", daemon=True)
        self._thread.start()
        atexit.register(_at_exit, weakref.ref(self))

    # Called from the user's thread.

    def submit(self, record: Record, episode: Episode, created_by: str) -> None:
        """Spool a record and return; on refusal the episode says why and one warning is logged."""
        try:
            self.store.add(record, created_by)
        except SpoolRefused as exc:
            episode._delivery_done(error=f"not spooled: {exc}")
            self.warn_once("refused:" + str(exc).split("(")[0], f"robotrace: episode not recorded: {exc}")
            return
        except Exception as exc:  # a bug here must not stop the training loop either
            episode._delivery_done(error=f"not spooled: {type(exc).__name__}: {exc}")
            self.warn_once("refused:bug", f"robotrace: episode not recorded: {exc!r}")
            return
        with self._cond:
            self._pending[record.id] = episode
            self._new.append(record.id)
        self._wake.set()

    def flush(self, timeout: float | None) -> bool:
        """Deliver now (no backoff) until nothing deliverable is waiting or ``timeout`` s passed.
        True when this spool has nothing waiting that was not claimed by another process."""
        deadline = None if timeout is None else time.monotonic() + max(0.0, timeout)
        with self._cond:
            self._flushing += 1
            start = self._passes_started
        self._wake.set()
        try:
            with self._cond:
                while self._last_idle_pass <= start and not self._stopped:
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        return False
                    self._cond.wait(left)
                return self._last_idle_pass > start
        finally:
            with self._cond:
                self._flushing -= 1

    def close(self, timeout: float | None) -> bool:
        done = self.flush(timeout)
        self._stopped = True
        self._wake.set()
        return done

    def warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            logger.warning(message)

    # The thread.

    def _run(self) -> None:
        while not self._stopped:
            try:
                idle = self._pass()
            except Exception as exc:  # a bug must not stop delivery for the whole run
                self.warn_once("worker:bug", f"robotrace: spool worker error: {exc!r}")
                idle = False
            with self._cond:
                self._passes_done += 1
                if idle:
                    self._last_idle_pass = self._passes_started
                self._cond.notify_all()
                flushing = self._flushing > 0
            if idle:
                delay = RESCAN_S
            elif flushing:
                delay = MIN_FLUSH_RETRY_S
            else:
                delay = random.random() * min(  # noqa: S311 - jitter, not secrecy
                    MAX_BACKOFF_S, 2.0**self._failures
                )
            self._sleep(delay, backing_off=not idle)

    def _sleep(self, delay: float, *, backing_off: bool) -> None:
        """Until ``delay`` passed or a wake-up. New records are made durable at once; while backing off
        from a failing server they do not cut the wait short (a flush or a stop does)."""
        deadline = time.monotonic() + delay
        while not self._stopped:
            self._wake.wait(max(0.0, deadline - time.monotonic()))
            self._wake.clear()
            self._make_new_durable()
            if not backing_off or self._flushing > 0 or time.monotonic() >= deadline:
                return

    def _make_new_durable(self) -> None:
        with self._cond:
            new, self._new = self._new, []
        if new:
            # A read-only spool, or a record delivered meanwhile: nothing to do.
            with contextlib.suppress(OSError):
                self.store.make_durable(new)
            self._durable.update(new)

    def _pass(self) -> bool:
        """One pass over waiting/, oldest first. True when it ended with nothing left it could deliver."""
        with self._cond:
            self._passes_started += 1
        if time.monotonic() - self._last_sweep > SWEEP_EVERY_S or self._last_sweep == 0.0:
            self._last_sweep = time.monotonic()
            for rid in self.store.sweep():
                self._finish(rid, Outcome("parked", "expired"))
        client = self._client_ref()
        if client is None:
            self._stopped = True
            return True
        for rid in self.store.ids("waiting"):
            if self._stopped:
                return False
            if not self.store.claim(rid):
                continue
            try:
                if rid not in self._durable:
                    self._make_new_durable()
                    self._make_durable(rid)  # another process's record, or one resumed after a crash
                outcome = deliver_one(client, self.store, rid)
            finally:
                self.store.release(rid)
            self._finish(rid, outcome)
            if outcome.kind == "retry":
                self._failures += 1
                self.warn_once(
                    "retry", f"robotrace: delivery is failing, will retry in the background: {outcome.detail}"
                )
                return False
            self._failures = 0
        return True

    def _make_durable(self, rid: str) -> None:
        # A record another process wrote (and made durable), or a read-only spool: nothing to do.
        with contextlib.suppress(OSError):
            self.store.make_durable([rid])
        self._durable.add(rid)

    def _finish(self, rid: str, outcome: Outcome) -> None:
        if outcome.kind == "retry":
            return
        self._durable.discard(rid)
        with self._cond:
            episode = self._pending.pop(rid, None)
        if outcome.kind == "parked":
            self.warn_once("parked", f"robotrace: an episode cannot be delivered, parked: {outcome.detail}")
        if episode is not None:
            if outcome.receipt is not None:
                episode._delivery_done(receipt=outcome.receipt)
            else:
                episode._delivery_done(error=outcome.detail)


def _at_exit(ref: weakref.ref[SpoolWorker]) -> None:
    worker = ref()
    if worker is not None and not worker._stopped:
        worker.close(worker.flush_timeout)
