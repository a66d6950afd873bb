"""Writing a file atomically: readers see the old content or all of the new, never part of it.

:func:`atomic_write` is the one place where fmcnn writes a file under a temporary name and
then renames it onto the target (checkpoints, log.csv, config.json, downloads, grades,
generated notebooks, and the grader's sandbox results).
"""
import contextlib
import io
import os

__all__ = ["atomic_write", "write_atomically"]


def _bind(open_, fsync, replace, unlink, urandom, fspath, sep):
    """Build :func:`atomic_write` around these OS functions, held in its closure.

    They are bound once, when this module is imported: the grader's sandbox
    (:mod:`fmcnn.exercises.runner`) imports it before any student code runs, and
    student code that later replaces ``os.replace``, ``os.fsync``, ``open``, ... (or
    this module's globals) does not change how the sandbox writes its results.
    """

    @contextlib.contextmanager
    def atomic_write(path, mode="w", *, encoding=None, newline=None, suffix=".tmp", sync=True):
        """Write ``path`` atomically: yield a new temporary file, then rename it onto ``path``.

        ``mode`` is ``"w"`` (text; ``encoding`` and ``newline`` as for :func:`open`)
        or ``"wb"`` (bytes). The temporary file is created (exclusively, with a
        random name ``.<name>.<random><suffix>``) in the folder of ``path``, which
        must exist. Its ``name`` attribute is its path, for a writer that needs a
        path rather than a file object (it must then write that very path, e.g.
        give ``suffix=".npz"`` to ``np.savez``).

        Guarantees:

        * when the ``with`` block ends normally, the file is flushed, fsynced
          (unless ``sync=False``) and renamed with :func:`os.replace` onto ``path``,
          so ``path`` holds either its old content or all of the new one, never a
          part (also for a reader at that moment, or after a crash);
        * when the block raises (any exception, KeyboardInterrupt included), or
          flushing, fsyncing or renaming fails, the temporary file is removed,
          ``path`` is left untouched and the exception propagates.

        Not guaranteed: the folder's entry is not fsynced, so after a power loss
        the rename itself may be lost (``path`` then has its old content); the
        temporary file is left behind if the process is killed (SIGKILL) midway;
        the new file gets the default permissions (umask), not those of the old one.
        """
        if mode not in ("w", "wb"):
            raise ValueError(f"atomic_write mode must be 'w' or 'wb', not {mode!r}")
        path = fspath(path)
        head, slash, name = path.rpartition(sep)
        for _ in range(100):
            tmp = f"{head}{slash}.{name}.{urandom(6).hex()}{suffix}"
            try:
                file = open_(tmp, "x" + mode[1:], encoding=encoding, newline=newline)
                break
            except FileExistsError:
                continue
        else:
            raise FileExistsError(f"could not create a temporary file next to {path}")
        try:
            with file:
                yield file
                file.flush()
                if sync:
                    fsync(file.fileno())
            replace(tmp, path)
        except BaseException:
            try:
                unlink(tmp)
            except OSError:
                pass
            raise

    return atomic_write


atomic_write = _bind(io.open, os.fsync, os.replace, os.unlink, os.urandom, os.fspath, os.sep)


def write_atomically(path, data, *, encoding="utf-8", sync=True):
    """Write ``data`` (``str``, encoded with ``encoding``, or ``bytes``) to ``path`` with
    :func:`atomic_write` (same guarantees); return ``path``."""
    text = isinstance(data, str)
    with atomic_write(path, "w" if text else "wb", encoding=encoding if text else None, sync=sync) as f:
        f.write(data)
    return path
