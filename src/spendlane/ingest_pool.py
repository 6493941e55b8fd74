"""The parse worker processes of a large ingest.

Workers are started as soon as planning finds enough to read, before the plan is complete:
on a first import they load the price catalog (0.15 s each) while the writer finishes
planning, instead of stopping to load it in the middle of the work. The plan and what the
workers need to price it follow down a pipe once known.

No multiprocessing.Pool: its three helper threads cost the writer's process nearly a second of
CPU on a first import of thousands of files, a CPU the workers need.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import queue
import sys
import threading
from collections.abc import Iterator
from multiprocessing.connection import Connection, wait
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from spendlane.ingest import Outcome, Task
    from spendlane.ingest_worker import Setup


class Workers:
    """`n` worker processes, waiting for their work."""

    def __init__(self, n: int, *, load_catalog: bool) -> None:
        from spendlane.ingest_worker import serve

        context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
        self._counter = context.Value("i", 0)
        self._jobs: list[Connection[Any, Any]] = []
        self._results: list[Connection[Any, Any]] = []
        self._processes: list[Any] = []
        self._drain: threading.Thread | None = None
        self._working = False  # the plan was sent
        try:
            for _ in range(n):
                job_out, job_in = context.Pipe(duplex=False)
                results_out, results_in = context.Pipe(duplex=False)
                process = context.Process(  # type: ignore[attr-defined]
                    target=serve,
                    args=(job_out, results_in, self._counter, load_catalog),
                    daemon=True,
                )
                process.start()
                job_out.close()
                results_in.close()
                self._jobs.append(job_in)
                self._results.append(results_out)
                self._processes.append(process)
        except BaseException:
            self.close()
            raise

    def run(self, ordered: list[Task], setup: Setup, idle_after: float) -> Iterator[Outcome | None]:
        """Process the tasks, yielding outcomes as they come, and None whenever none has come
        for `idle_after` seconds (the workers are deep in large files).

        Each worker takes the next task from a shared counter (in `ordered` order) and sends
        each outcome down its own pipe; one thread here receives them. A worker's exception
        is raised here.
        """
        self._working = True
        try:
            for job in self._jobs:
                with contextlib.suppress(OSError):  # it died first: its exit code says why
                    job.send((ordered, setup))
            outcomes: queue.SimpleQueue[Outcome | BaseException | None] = queue.SimpleQueue()
            self._drain = threading.Thread(
                target=_drain, args=(self._results, outcomes), daemon=True
            )
            self._drain.start()
            while True:
                try:
                    message = outcomes.get(timeout=idle_after)
                except queue.Empty:
                    yield None
                    continue
                if message is None:
                    break
                if isinstance(message, BaseException):
                    raise message
                yield message
            for process in self._processes:
                process.join()
                if process.exitcode != 0:
                    raise RuntimeError(f"an ingest worker died (exit code {process.exitcode})")
        finally:
            self.close()

    def close(self) -> None:
        """Let workers with no work go (or stop the ones still at it) and release the pipes."""
        for job in self._jobs:
            with contextlib.suppress(OSError):  # no work (unread by a worker that has its work)
                job.send(None)
            job.close()
        self._jobs = []
        for process in self._processes:
            if not self._working:
                process.join(timeout=5)  # told there is no work, it leaves (after its catalog)
            if process.is_alive():  # stopped mid-work: the run failed
                process.terminate()
                process.join()
        self._processes = []
        if self._drain is not None:
            self._drain.join(timeout=5)  # it ends at the workers' EOF; then the pipes can close
            self._drain = None
        for results in self._results:
            results.close()
        self._results = []


def _drain(
    readers: list[Connection[Any, Outcome | BaseException]],
    outcomes: queue.SimpleQueue[Outcome | BaseException | None],
) -> None:
    """Receive the workers' outcomes as they come, in a thread, so that a worker never waits
    on a full pipe while the writer is busy committing; None once every worker is done."""
    pending = list(readers)
    while pending:
        for ready in wait(pending):
            connection = cast("Connection[Any, Outcome | BaseException]", ready)
            try:
                outcomes.put(connection.recv())
            except EOFError:  # this worker is done (or died: its exit code says)
                pending.remove(connection)
            except BaseException as exc:  # the writer raises it
                outcomes.put(exc)
                return
    outcomes.put(None)
