"""One helper thread, so that a pass can run on two cores without BLAS threads (the appendix,
book/14_the_fast_package, "Two cores without BLAS threads").

NumPy releases Python's global interpreter lock inside matrix products and array
loops, so while this thread computes one half of a batch, a helper thread can
compute the other half on the second core.
"""
import os
from concurrent.futures import ThreadPoolExecutor

# One helper thread for the whole process (its thread starts on first use). It never spins: while it
# has no work it sleeps, so on a busy machine it costs nothing but a wait.
_HELPER = None


def _start_helper():
    global _HELPER
    _HELPER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fmcnn-fused")


_start_helper()
if hasattr(os, "register_at_fork"):
    # Threads do not survive fork(): a child process would hand its work to a helper that
    # no longer exists and wait for ever. Each child starts a helper of its own instead.
    os.register_at_fork(after_in_child=_start_helper)


def on_two_cores(compute, n):
    """Call compute(lo, hi) for the first half of range(n) on the helper thread and for the second half here.

    Returns, or raises, only when both are done: the helper's half writes into
    buffers that the caller reuses, so it must not outlive this call. If the
    half run here raises (KeyboardInterrupt included), that exception goes on
    once the helper's half has finished, with a note if that half failed too;
    otherwise an exception of the helper's half is raised here. Handing a task
    over costs tens of microseconds, so this pays only for stages of a few
    hundred microseconds or more.
    """
    half = n // 2
    if half == 0:                                   # a single image: nothing to hand over
        compute(0, n)
        return
    first = _HELPER.submit(compute, 0, half)
    try:
        compute(half, n)
    except BaseException as error:
        helper_error = first.exception()            # waits for the helper's half; never raises its error
        if helper_error is not None and hasattr(error, "add_note"):          # add_note: Python 3.11+
            error.add_note(f"The helper thread's half, compute(0, {half}), failed as well: {helper_error!r}")
        raise
    first.result()


def one_call(compute, n):
    """compute(0, n): the whole range in one call on this thread, for work too small to hand over."""
    compute(0, n)
