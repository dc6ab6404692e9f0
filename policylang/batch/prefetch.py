"""Read the next batch while this one is evaluated: a claims reader run on a second thread.

Arrow decodes Parquet and CSV with the GIL released, so on a machine with two cores the file is read while
numpy evaluates. At most two batches are ahead of the one being evaluated (one waiting, one being read),
so memory stays bounded by the batch size; the reader's errors (BadFile) are raised here, in order, after the batches before them; a run that stops early stops the
reader and closes its file on the reader's own thread.
"""
from __future__ import annotations

import queue
import threading
from typing import Iterable, Iterator


class Prefetched:
    def __init__(self, items: Iterable, name: str = "policylang-reader"):
        self._queue: queue.Queue = queue.Queue(maxsize=1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(iter(items),), name=name, daemon=True)
        self._thread.start()

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self, items: Iterator) -> None:
        try:
            for item in items:
                if not self._put(("item", item)):
                    return
            self._put(("done", None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consuming thread, raised there
            self._put(("error", exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    def __iter__(self) -> Iterator:
        try:
            while True:
                kind, item = self._queue.get()
                if kind == "item":
                    yield item
                elif kind == "done":
                    return
                else:
                    raise item
        finally:
            self.close()

    def close(self) -> None:
        self._stop.set()
        while self._thread.is_alive():
            try:
                self._queue.get_nowait()
            except queue.Empty:
                pass
            self._thread.join(timeout=0.05)
