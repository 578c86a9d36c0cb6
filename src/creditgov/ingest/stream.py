"""Record files prepared ahead, in a second process, while this one writes.

Everything a record row needs that does not touch the database — reading and decoding,
the spec's steps and filters, check digits, dates, amounts, the item's catalogue and
data-request checks, hashes, encryption of personal raw rows — is `RecordPreparer`'s
work (pipeline.py). `PreparedStream` runs it for the run's record files in order, on
a second core when the files are large enough to pay for one, and hands each file's
prepared chunks to the writer, which resolves subjects, deduplicates and inserts inside
the file's transaction. The second process writes nothing: if the writer dies, the
helper notices its parent is gone and exits, and no batch is half written.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from creditgov.ingest.pipeline import PreparedRecords, RecordPreparer
from creditgov.ingest.readers import read_chunks
from creditgov.ingest.schemas import SourceSpec

# Files smaller than this in total are prepared in the writer's own process: a second
# process costs ~0.1 s to start, more than it saves on a few MB.
PARALLEL_MIN_BYTES = 4 << 20
_QUEUE_CHUNKS = 6


@dataclass(frozen=True)
class Job:
    spec: SourceSpec
    path: Path


@dataclass(frozen=True)
class Context:
    keyring: Any
    today: str
    catalog: dict[str, int | None]
    requests: dict[tuple[str, str], str]


def _prepared(jobs: list[Job], ctx: Context, chunk: int) -> Iterator[tuple[int, list[str] | None, PreparedRecords | None]]:
    """(job index, header, prepared chunk) for every chunk, then (job index, None, None)."""
    for idx, job in enumerate(jobs):
        prep = RecordPreparer(job.spec, keyring=ctx.keyring, today=ctx.today, catalog=ctx.catalog,
                              requests=ctx.requests)
        for c in read_chunks(job.spec, job.path, chunk):
            header = list(c.header) if c.header is not None else (list(c.rows[0]) if c.rows else None)
            yield idx, header, prep.prepare(c.header, c.lines, c.rows)
        yield idx, None, None


def _worker(jobs: list[Job], ctx: Context, chunk: int, q: Any, parent: int) -> None:  # pragma: no cover - child
    def put(item: Any) -> bool:
        while True:
            if os.getppid() != parent:  # the writer is gone (killed): stop, write nothing
                return False
            try:
                q.put(item, timeout=0.5)
                return True
            except queue.Full:
                continue

    try:
        for item in _prepared(jobs, ctx, chunk):
            if not put(item):
                return
    except BaseException as exc:  # handed to the writer, which raises it inside that file's batch
        try:
            import pickle

            pickle.dumps(exc)
        except Exception:
            exc = RuntimeError(f"{type(exc).__name__}: {exc}")
        put(("error", exc))
    finally:
        q.close()
        q.join_thread()


class PreparedStream:
    """The prepared chunks of each record file, file by file in job order."""

    def __init__(self, jobs: list[Job], ctx: Context, *, chunk: int, parallel: bool | None = None) -> None:
        self.jobs, self.ctx, self.chunk = jobs, ctx, chunk
        if parallel is None:
            env = os.environ.get("CREDITGOV_INGEST_PARALLEL", "auto")
            big = sum(j.path.stat().st_size for j in jobs) >= PARALLEL_MIN_BYTES
            parallel = env == "1" or (env == "auto" and big and (os.cpu_count() or 1) > 1)
        self.parallel = parallel
        self.next_job = 0
        self._proc: Any = None
        if parallel and jobs:
            method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
            mctx = mp.get_context(method)
            self._q = mctx.Queue(maxsize=_QUEUE_CHUNKS)
            self._proc = mctx.Process(target=_worker, args=(jobs, ctx, chunk, self._q, os.getpid()),
                                      name="creditgov-ingest-prepare", daemon=True)
            self._proc.start()
        else:
            self._inline = _prepared(jobs, ctx, chunk)

    def _get(self) -> Any:
        if self._proc is None:
            return next(self._inline)
        while True:
            try:
                return self._q.get(timeout=1.0)
            except queue.Empty:
                if not self._proc.is_alive():
                    raise RuntimeError("the ingestion helper process ended unexpectedly") from None

    def file(self, idx: int) -> Iterator[tuple[list[str] | None, PreparedRecords]]:
        """The chunks of job `idx`; jobs must be taken in order and each one to its end."""
        assert idx == self.next_job, "record files are prepared in order"
        while True:
            item = self._get()
            if item[0] == "error":
                raise item[1]
            i, header, prepared = item
            assert i == idx
            if prepared is None:
                self.next_job += 1
                return
            yield header, prepared

    def close(self) -> None:
        if self._proc is not None:
            if self._proc.is_alive():
                self._proc.terminate()
            self._proc.join(timeout=5)
            self._q.close()
            self._q.cancel_join_thread()
            self._proc = None
