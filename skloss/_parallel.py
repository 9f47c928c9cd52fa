"""Threads for the cache-blocked epoch: a persistent pool and BLAS control.

An epoch over large dense NumPy data (``LinearObjective``) is a sequence of
independent blocks of rows. Their elementwise loss work (NumPy ufuncs) runs
on one core however many BLAS threads there are, so the blocks are shared
between threads instead: each thread runs its blocks' matrix products with
*one* BLAS thread, and NumPy and BLAS release the GIL, so the threads really
run in parallel. Results are combined by the caller in block order, so they
do not depend on which thread ran which block.

How many threads: the BLAS thread budget in effect (``threadpoolctl``), so
``threadpool_limits(1)`` and joblib's workers (which limit BLAS to one
thread each) get the serial epoch. Threads are used only where each thread
can limit its own BLAS calls without touching the others':
OpenBLAS's ``openblas_set_num_threads_local`` (OpenBLAS 0.3.27 or later,
pthreads build, as in NumPy's and SciPy's wheels). With another BLAS
(MKL, BLIS, Accelerate, ...), an older OpenBLAS or none detected,
:func:`epoch_threads` is 1 and epochs stay serial.

The pool is created on first use and kept (daemon threads waiting on a
queue). It is recreated in a child process after ``fork``, where the
parent's threads do not exist.
"""

import ctypes
import os
import threading
from queue import SimpleQueue

# Bytes of X per block of a cache-blocked epoch (see _block_rows): large
# enough that the Python overhead per block is small, small enough that a
# block and its (rows, K) loss arrays stay in cache between the two products
# while another thread works on another block (2 MB measured best on 100,000
# x 50 x 20 softmax: 1.05x the two products' CPU time, vs 1.14x at 0.5 MB
# and 1.37x at 16 MB).
_BLOCK_BYTES = 2 * 2**20

_LOCAL_SYMBOL = "openblas_set_num_threads_local"

# Per process: worker threads and their queue, and the BLAS thread controls.
_lock = threading.Lock()
_state = {"pid": None, "queue": None, "workers": 0, "blas": None}


def _reset_after_fork():
    # The parent's threads do not exist in the child, and the lock may have
    # been held by one of them at the fork.
    global _lock
    _lock = threading.Lock()
    _state.update(pid=None, queue=None, workers=0)


if hasattr(os, "register_at_fork"):  # pragma: no branch - POSIX
    os.register_at_fork(after_in_child=_reset_after_fork)


def _blas_controls():
    """``(get_num_threads, set_local, set_num_threads)``, per BLAS library; cached.

    None when some loaded BLAS cannot limit the calling thread alone (then
    the epoch is serial). Read once per process through threadpoolctl
    (a scikit-learn dependency), whose library scan costs milliseconds.
    """
    blas = _state["blas"]
    if blas is not None:
        return blas or None
    controls = []
    try:
        from threadpoolctl import ThreadpoolController

        libs = [
            lib
            for lib in ThreadpoolController().lib_controllers
            if lib.user_api == "blas"
        ]
        for lib in libs:
            set_local = next(
                (
                    getattr(lib.dynlib, f"{prefix}{_LOCAL_SYMBOL}{suffix}")
                    for prefix in ("", "scipy_")
                    for suffix in ("", "64_", "_64")
                    if hasattr(lib.dynlib, f"{prefix}{_LOCAL_SYMBOL}{suffix}")
                ),
                None,
            )
            if (
                lib.internal_api != "openblas"
                or getattr(lib, "threading_layer", None) != "pthreads"
                or set_local is None
            ):
                controls = []
                break
            set_local.argtypes = [ctypes.c_int]
            set_local.restype = ctypes.c_int
            controls.append((lib.get_num_threads, set_local, lib.set_num_threads))
    except Exception:  # pragma: no cover - threadpoolctl missing or broken
        controls = []
    _state["blas"] = controls
    return controls or None


def epoch_threads(n_blocks):
    """Threads for an epoch of ``n_blocks`` blocks: the BLAS thread budget.

    Parameters
    ----------
    n_blocks : int
        Number of blocks of the epoch (the most threads that can help).

    Returns
    -------
    int
        The number of BLAS threads currently allowed (the smallest over the
        BLAS libraries loaded), capped by ``n_blocks``; 1 when BLAS cannot
        be limited per thread.

    Examples
    --------
    >>> from threadpoolctl import threadpool_limits
    >>> from skloss._parallel import epoch_threads
    >>> with threadpool_limits(limits=1):
    ...     epoch_threads(10)
    1
    >>> epoch_threads(1)
    1
    """
    if n_blocks < 2:
        return 1
    controls = _blas_controls()
    if controls is None:
        return 1
    budget = min((get() or 1) for get, _, _ in controls)
    return max(1, min(budget, n_blocks))


class one_blas_thread:
    """Context: BLAS calls of *this* thread use one thread; others unchanged.

    For many small products in a row (mini-batch steps), where waking and
    synchronising BLAS threads costs more than the product, and leaves
    them spinning in the way of the next NumPy call. A no-op where BLAS
    cannot be limited per thread (see the module docstring).

    Examples
    --------
    >>> import numpy as np
    >>> from skloss._parallel import one_blas_thread
    >>> with one_blas_thread():
    ...     float(np.ones(3) @ np.ones(3))
    3.0
    """

    def __enter__(self):
        self.controls = _blas_controls() or ()
        for _, set_local, _ in self.controls:
            set_local(1)
        return self

    def __exit__(self, *exc):
        # Back to the process-wide setting (0 = no thread-local limit).
        for _, set_local, _ in self.controls:
            set_local(0)
        return False


# Threaded epochs in progress (in any thread) and the BLAS thread counts
# they replaced.
_serial = {"depth": 0, "saved": ()}


class serial_blas:
    """Context: every BLAS call of the process uses one thread meanwhile.

    The thread-local limit of :class:`one_blas_thread` is not always
    honoured while several threads call BLAS at once: OpenBLAS 0.3.30 ran
    about 5% of concurrent float32 ``X.T @ g`` products of 5,000 x 100
    blocks with two threads anyway, and a product split over two threads
    sums in another order, so threaded float32 epochs were not bit for bit
    repeatable (fits of one 200,000 x 100 array differed by 3e-3 in
    ``coef_``). During a threaded epoch the process-wide count is one (the
    epoch's threads are the parallelism); nested and concurrent epochs
    restore it when the last one ends.

    Examples
    --------
    >>> import numpy as np
    >>> from skloss._parallel import serial_blas
    >>> with serial_blas():
    ...     float(np.ones(3) @ np.ones(3))
    3.0
    """

    def __enter__(self):
        controls = _blas_controls() or ()
        with _lock:
            if _serial["depth"] == 0:
                _serial["saved"] = tuple(get() for get, _, _ in controls)
                for _, _, set_threads in controls:
                    set_threads(1)
            _serial["depth"] += 1
        return self

    def __exit__(self, *exc):
        controls = _blas_controls() or ()
        with _lock:
            _serial["depth"] -= 1
            if _serial["depth"] == 0:
                for (_, _, set_threads), n in zip(controls, _serial["saved"]):
                    set_threads(n)
        return False


def _worker(queue):
    # Blocks run under serial_blas (one BLAS thread process-wide), so the
    # thread's own BLAS setting is left alone.
    while True:
        queue.get()._run()


class _Job:
    """Blocks ``0 .. n - 1`` handed out one at a time to whoever asks."""

    def __init__(self, fn, n, first):
        self.fn = fn
        self.n = n
        self.next = first
        self.running = 0
        self.results = [None] * n
        self.errors = {}
        self.stop = False
        self.lock = threading.Lock()
        self.finished = threading.Event()

    def _take(self):
        with self.lock:
            if self.stop or self.next >= self.n:
                return None
            i = self.next
            self.next += 1
            self.running += 1
            return i

    def _run(self):
        while (i := self._take()) is not None:
            try:
                result, error = self.fn(i), None
            except BaseException as exc:  # re-raised by the caller
                result, error = None, exc
            with self.lock:
                self.results[i] = result
                if error is not None:
                    self.errors[i] = error
                    self.stop = True
                self.running -= 1
                if self.running == 0 and (self.stop or self.next >= self.n):
                    self.finished.set()


def run_blocks(fn, n_blocks, n_threads, first=0):
    """``[fn(i) for i in range(first, n_blocks)]``, on ``n_threads`` threads.

    The calling thread takes part; ``n_threads - 1`` threads of the
    persistent pool join it. Every thread runs BLAS with one thread during
    the call (the process-wide count is one meanwhile, see
    :class:`serial_blas`). Blocks are handed out in order; the results come back in
    block order whichever thread computed them. If some ``fn(i)`` raises,
    no further block is started and the exception of the lowest such block
    is raised, unchanged, once the blocks already started are done.

    Parameters
    ----------
    fn : callable
        ``fn(i)`` computes block ``i``; it must be safe to call from several
        threads at once (it should release the GIL, as NumPy and BLAS do, to
        gain anything).
    n_blocks : int
        Number of blocks.
    n_threads : int
        Threads to use, the calling one included (see :func:`epoch_threads`).
    first : int, default=0
        The first block to compute (the caller has done those before).

    Returns
    -------
    list
        ``fn(i)`` for ``i`` in ``range(first, n_blocks)``.

    Examples
    --------
    >>> from skloss._parallel import run_blocks
    >>> run_blocks(lambda i: i * i, 5, n_threads=2)
    [0, 1, 4, 9, 16]
    """
    job = _Job(fn, n_blocks, first)
    if job.next >= n_blocks:
        return []
    queue = _pool(n_threads - 1)
    with serial_blas():  # one BLAS thread everywhere: repeatable sums
        for _ in range(n_threads - 1):
            queue.put(job)
        try:
            job._run()  # this thread takes blocks too
            job.finished.wait()
        except BaseException:  # e.g. KeyboardInterrupt: workers stop early
            job.stop = True
            raise
    if job.errors:
        raise job.errors[min(job.errors)]
    return job.results[first:]


def _pool(n_workers):
    """The pool's task queue, with at least ``n_workers`` threads on it."""
    with _lock:
        if _state["pid"] != os.getpid():  # first use, or a child after fork
            _state.update(pid=os.getpid(), queue=SimpleQueue(), workers=0)
        queue = _state["queue"]
        while _state["workers"] < n_workers:
            threading.Thread(
                target=_worker, args=(queue,), daemon=True,
                name=f"skloss-epoch-{_state['workers']}",
            ).start()
            _state["workers"] += 1
        return queue
