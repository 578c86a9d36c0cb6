"""A run's files prepared ahead, in a second process, while this one writes.

The writer (the process that runs `ingest_paths`) holds the store's write lock for a
batch, and inserting into SQLite is work only it can do; everything else about a row
needs no database and can be done by a second process on the second core:

- registrations and links (`RowPreparer`): reading, steps, filters, every check that
  needs no stored subject, the ID number's encryption, blind index and mask;
- records (`RecordPreparer`, a chunk at a time): reading, steps, filters, the item's
  catalogue and data-request checks, check digits, dates, amounts, hashes, encryption
  of personal raw rows.

Then a records chunk needs its subject ids and content hashes (they include the
subject id; `with_subjects`), and the writer checks natural keys within the file and
against stored records (`resolve_records`, `BatchWriter.flush`) and inserts.

The two processes share the work by the queue between them, chunk by chunk. The helper
reads every file of the run in the writer's order and looks at how many chunks wait for
the writer:

- few (the writer is about to wait): it hands the chunk over as read, and the writer
  prepares it itself;
- some: it prepares the chunk;
- many (the writer is the slower side): it prepares the chunk and works out its
  subject ids and content hashes too, when it has the subjects of every batch before
  the file. It starts with the subjects stored when the run began; after each batch
  that can add subjects (a registration file, or a records file whose spec creates
  provisional subjects) the writer sends the ones it added, once committed. Records of
  specs that create provisional subjects are always resolved by the writer: creating
  a subject is a write. The natural-key check within a file is the writer's in any
  case: it must see the whole file in order, and costs little.

So neither core waits on the other for long, whichever side a run's mix of files and
the machine's load make the heavier. Per record row, measured on two cores: inserting
(SQLite, from Python) ~9 µs, reading ~2 µs, preparing ~5 µs, resolving ~1.6 µs,
pickling and unpickling ~2 µs.

The helper writes nothing and never opens the store: if the writer dies, the helper
notices its parent is gone and exits, and no batch is half written. Small runs skip the
second process and prepare in the writer's own.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from creditgov.ingest.prepare_records import PreparedRecords, RecordPreparer, with_subjects
from creditgov.ingest.prepare_rows import RowPreparer, RowsChunk
from creditgov.ingest.readers import Chunk, RawRow, read_chunks, read_rows
from creditgov.ingest.schemas import SourceSpec

if TYPE_CHECKING:
    from multiprocessing.context import ForkContext, SpawnContext

# Runs whose files total less than this are prepared in the writer's own process: a
# second process costs ~0.1 s to start, more than it saves on a few MB.
PARALLEL_MIN_BYTES = 4 << 20
_QUEUE_CHUNKS = 10
# With fewer chunks than this waiting for the writer, the helper hands the next one over
# as read; with at least _RESOLVE_FROM, it also works out the chunk's subjects.
_HAND_OVER_BELOW = 2
_RESOLVE_FROM = 5


@dataclass
class RawRows:
    """Rows of a registration or links file as read, for the writer to prepare."""

    rows: list[tuple[int, RawRow]]


Item = PreparedRecords | Chunk | RowsChunk | RawRows


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
    regions: dict[str, int]
    by_uscc: dict[str, int]   # the subjects stored when the run began
    by_index: dict[str, int]


def changes_subjects(spec: SourceSpec) -> bool:
    """Whether a batch of this spec can add subjects (the writer then sends them on)."""
    return spec.kind == "registration" or (spec.kind == "records" and spec.unknown_subject == "provisional")


class _Subjects:
    """The helper's copy of the subject maps, kept current from the writer's messages."""

    def __init__(self, jobs: list[Job], ctx: Context, inbox: Any) -> None:
        self.by_uscc, self.by_index = dict(ctx.by_uscc), dict(ctx.by_index)
        self.adding = [i for i, j in enumerate(jobs) if changes_subjects(j.spec)]
        self.done: set[int] = set()
        self.inbox = inbox

    def ready(self, job: int) -> bool:
        """Whether every batch before `job` that can add subjects has sent them."""
        while not all(i in self.done for i in self.adding if i < job):
            try:
                idx, uscc, index = self.inbox.get_nowait()
            except queue.Empty:
                return False
            self.by_uscc.update(uscc)
            self.by_index.update(index)
            self.done.add(idx)
        return True


def _prepared(jobs: list[Job], ctx: Context, chunk: int, waiting: Callable[[], int] | None,
              subjects: _Subjects | None = None) -> Iterator[tuple[int, list[str] | None, Item | None]]:
    """(job index, header, chunk) for every chunk, then (job index, None, None). Without
    `waiting` every chunk is prepared here; with it, how much of a chunk's work is done
    here depends on how many chunks wait for the writer (see the module's docstring)."""
    today = dt.date.fromisoformat(ctx.today)
    for idx, job in enumerate(jobs):
        spec = job.spec
        if spec.kind == "records":
            prep = RecordPreparer(spec, keyring=ctx.keyring, today=ctx.today, catalog=ctx.catalog,
                                  requests=ctx.requests)
            known = subjects if spec.unknown_subject != "provisional" else None
            for c in read_chunks(spec, job.path, chunk):
                header = list(c.header) if c.header is not None else (list(c.rows[0]) if c.rows else None)
                queued = waiting() if waiting is not None else _HAND_OVER_BELOW
                if queued < _HAND_OVER_BELOW:
                    yield idx, header, c
                    continue
                p = prep.prepare(c.header, c.lines, c.rows)
                if known is not None and queued >= _RESOLVE_FROM and known.ready(idx):
                    p = with_subjects(p, known.by_uscc, known.by_index)
                yield idx, header, p
        else:
            prep_row = RowPreparer(spec, keyring=ctx.keyring, today=today, regions=ctx.regions).prepare
            file_header: list[str] | None = None
            for part in _batched(read_rows(spec, job.path), chunk):
                if file_header is None:
                    file_header = list(part[0][1])
                if waiting is not None and waiting() < _HAND_OVER_BELOW:
                    yield idx, file_header, RawRows(part)
                else:
                    yield idx, file_header, RowsChunk([(line, *prep_row(raw)) for line, raw in part])
        yield idx, None, None


def _batched(rows: Iterator[tuple[int, RawRow]], size: int) -> Iterator[list[tuple[int, RawRow]]]:
    while part := list(islice(rows, size)):
        yield part


def _leave_with_parent(parent: int) -> None:  # pragma: no cover - child
    """The helper's watch: once the writer is gone (killed), leave at once, whatever the
    helper is doing — blocked writing into the full queue's pipe, say. A forked helper
    holds copies of the writer's sockets (a PostgreSQL connection in the middle of a
    file's transaction): while it lives, the server keeps that transaction and its locks
    open, and the next run waits on them. The helper writes nothing, so leaving is safe."""
    while True:
        time.sleep(0.25)
        if os.getppid() != parent:
            os._exit(0)


def _worker(jobs: list[Job], ctx: Context, chunk: int, q: Any, inbox: Any,
            parent: int) -> None:  # pragma: no cover - child
    threading.Thread(target=_leave_with_parent, args=(parent,), name="creditgov-ingest-watch", daemon=True).start()
    os.nice(int(os.environ.get("XNICE", "0")))

    def put(item: Any) -> bool:
        while True:
            if os.getppid() != parent:  # the writer is gone (killed): stop, write nothing
                return False
            try:
                q.put(item, timeout=0.5)
                return True
            except queue.Full:
                continue

    def waiting() -> int:
        try:
            return q.qsize()
        except NotImplementedError:  # no sem_getvalue (macOS): prepare everything here
            return _HAND_OVER_BELOW

    try:
        for item in _prepared(jobs, ctx, chunk, waiting, _Subjects(jobs, ctx, inbox)):
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
        if os.getppid() != parent:
            q.cancel_join_thread()  # nobody reads the queue any more (see _leave_with_parent)
        q.close()
        q.join_thread()


class PreparedStream:
    """The prepared chunks of each file of a run, file by file in job order."""

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
            fork = "fork" in mp.get_all_start_methods()
            mctx: ForkContext | SpawnContext = mp.get_context("fork") if fork else mp.get_context("spawn")
            self._q = mctx.Queue(maxsize=_QUEUE_CHUNKS)
            self._inbox = mctx.Queue()
            self._proc = mctx.Process(target=_worker, args=(jobs, ctx, chunk, self._q, self._inbox, os.getpid()),
                                      name="creditgov-ingest-prepare", daemon=True)
            self._proc.start()
        else:
            self._inline = _prepared(jobs, ctx, chunk, None)

    def _get(self) -> Any:
        if self._proc is None:
            return next(self._inline)
        while True:
            try:
                return self._q.get(timeout=1.0)
            except queue.Empty:
                if not self._proc.is_alive():
                    raise RuntimeError("the ingestion helper process ended unexpectedly") from None

    def file(self, idx: int) -> Iterator[tuple[list[str] | None, Item]]:
        """The chunks of job `idx`; jobs must be taken in order and each one to its end."""
        assert idx == self.next_job, "files are prepared in order"
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

    def committed(self, idx: int, by_uscc: dict[str, int], by_index: dict[str, int]) -> None:
        """Job `idx`, one that `changes_subjects`, is committed with these subjects added."""
        if self._proc is not None:
            self._inbox.put((idx, by_uscc, by_index))

    def close(self) -> None:
        if self._proc is not None:
            if self._proc.is_alive():
                self._proc.terminate()
            self._proc.join(timeout=5)
            for q in (self._q, self._inbox):
                q.close()
                q.cancel_join_thread()
            self._proc = None
