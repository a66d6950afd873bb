"""The sandbox around a student's notebook: bubblewrap (``bwrap``), which needs no daemon and no root.

:mod:`.grade` runs every notebook's process (:mod:`.runner`) inside ``bwrap``
(Debian/Ubuntu package ``bubblewrap``, the sandbox behind Flatpak). Inside,
the process sees:

- read-only: the system (``/usr`` and the ``/bin``, ``/lib*`` links into it),
  the few files of ``/etc`` that the dynamic linker reads, the Python
  installation, the virtual environment and fmcnn's package folder (only that
  folder: for an editable install its parent is the whole repository, with
  the solutions);
- writable: its own job folder (a fresh temporary folder, bound at the same
  path as outside, since the grader reads the results from it after the
  process ended); everything else is a read-only, empty file system;
- a new ``/dev`` (null, zero, random...) and a ``/proc`` of its own processes,
  both read-only (so no kernel setting in ``/proc/sys`` can be changed, even
  when the grader runs as root);
- its own network namespace, with a loopback interface of its own and no
  other: no network, and the machine's 127.0.0.1 is not its 127.0.0.1;
- its own process namespace, in which the runner is process 1
  (``--as-pid-1``): when it ends, the kernel kills every process it started
  before ``bwrap`` returns, so nothing outlives the notebook; ``bwrap`` also
  kills it all when the grader dies (``--die-with-parent``);
- a new session (no terminal to inject input into), no capabilities.

Not seen: the submissions, the solutions, the output folder, the user's home,
``/tmp`` and anything else not listed. The resource limits of :mod:`.runner`
(memory, CPU time, file size) still apply inside.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile

from ..errors import FmcnnError

INSTALL = ("install bubblewrap (Debian/Ubuntu: sudo apt-get install bubblewrap; Fedora: sudo dnf install "
           "bubblewrap; Arch: sudo pacman -S bubblewrap)")
UNSANDBOXED = ("or grade with --no-sandbox, which runs student code as you, able to read and change your files "
               "and to use the network (see the README)")

# The system. On a merged-/usr system the others are links into /usr, made again as links.
SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# The only files of /etc the process needs: without the dynamic linker's cache, the libraries
# in /usr/lib/<platform>/ that Python links against are not found.
ETC = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime")
PROBE_SECONDS = 120                  # importing NumPy and fmcnn on a busy machine


class SandboxError(FmcnnError, RuntimeError):
    """bubblewrap is missing, cannot start here, or would show student code a folder it must not see."""


def _inside(path, folder):
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def python_folders():
    """``{path in the sandbox: path on this machine}`` for Python, its packages and fmcnn.

    Each folder appears at the path this Python uses (so a virtual environment
    finds its ``pyvenv.cfg`` and an editable install finds fmcnn where it was
    installed from) and is taken from where that path really leads. Folders
    inside another one, or inside the system, are left out.
    """
    import fmcnn

    package = os.path.dirname(os.path.abspath(fmcnn.__file__))
    wanted = {os.path.abspath(p) for p in (sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix,
                                           os.path.dirname(os.path.realpath(sys.executable)), package)}
    folders = {}
    for path in sorted(wanted):                          # a folder sorts before the folders inside it
        if not any(_inside(path, other) for other in (*SYSTEM, *folders)):
            folders[path] = os.path.realpath(path)
    return folders


class Sandbox:
    """How to run a command in bubblewrap: ``Sandbox.find()``, then :meth:`check`, then :meth:`wrap`."""

    def __init__(self, bwrap):
        self.bwrap = bwrap
        self.folders = python_folders()

    @classmethod
    def find(cls):
        """The sandbox of the ``bwrap`` on PATH; :class:`SandboxError` if there is none."""
        bwrap = shutil.which("bwrap")
        if bwrap is None:
            raise SandboxError(f"bubblewrap (the `bwrap` command) is not installed, and student code is only "
                               f"run in its sandbox: {INSTALL}, {UNSANDBOXED}.")
        return cls(bwrap)

    def wrap(self, workdir, command):
        """The command line that runs ``command`` in the sandbox, in ``workdir``, its only writable folder."""
        args = [self.bwrap, "--unshare-all", "--die-with-parent", "--new-session", "--as-pid-1",
                "--cap-drop", "ALL"]
        for path in SYSTEM:
            if os.path.islink(path):
                args += ["--symlink", os.readlink(path), path]
            elif os.path.isdir(path):
                args += ["--ro-bind", path, path]
        for path in ETC:
            args += ["--ro-bind-try", path, path]
        for path, source in self.folders.items():
            args += ["--ro-bind", source, path]
        # Mount points first, then /, /dev and /proc made read-only: the job folder is the one place to
        # write. /proc above all: bwrap (0.8) leaves /proc/sys writable, so under a grader run as root
        # student code could change the machine's kernel settings (vm.overcommit_memory, for one).
        args += ["--dev", "/dev", "--proc", "/proc", "--bind", workdir, workdir,
                 "--remount-ro", "/dev", "--remount-ro", "/proc", "--remount-ro", "/", "--chdir", workdir,
                 "--", *command]
        return args

    def visible(self, path):
        """The folder through which the sandbox shows ``path`` (read-only), or None if it does not."""
        path = os.path.realpath(path)
        shown = [os.path.realpath(p) for p in SYSTEM if os.path.isdir(p)] + list(self.folders.values())
        return next((folder for folder in shown if _inside(path, folder)), None)

    def check(self, env, private=()):
        """Make sure the sandbox works here and hides ``private`` (e.g. the submissions and output folders).

        Runs ``python -I -c "import fmcnn.exercises.runner"`` in the sandbox with
        the environment ``env(workdir)``; raises :class:`SandboxError`, saying what
        to do, if it cannot start or if a private folder would be visible inside.
        """
        for path in private:
            folder = self.visible(path)
            if folder is not None:
                raise SandboxError(f"{path} is inside {folder}, which the sandbox shows to student code: "
                                   "move it out of there and grade again.")
        with tempfile.TemporaryDirectory(prefix="fmcnn-sandbox-check-") as workdir:
            command = self.wrap(workdir, [sys.executable, "-I", "-c", "import fmcnn.exercises.runner"])
            try:
                result = subprocess.run(command, env=env(workdir), cwd=workdir, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=PROBE_SECONDS)
            except OSError as e:
                raise SandboxError(f"bubblewrap ({self.bwrap}) cannot be run ({e.strerror}): {INSTALL}, "
                                   f"{UNSANDBOXED}.") from None
            except subprocess.TimeoutExpired:
                raise SandboxError(f"bubblewrap ({self.bwrap}) did not start Python within {PROBE_SECONDS} s; "
                                   f"grade again when the machine is less busy, {UNSANDBOXED}.") from None
        if result.returncode != 0:
            lines = result.stderr.decode("utf-8", "replace").strip().splitlines()
            why = lines[-1] if lines else f"exit status {result.returncode}"
            raise SandboxError(f"bubblewrap cannot start a sandbox on this machine ({why}). It needs user "
                               "namespaces, which some systems switch off (kernel.unprivileged_userns_clone, or "
                               f"AppArmor on Ubuntu 24.04 and later); if `bwrap` itself is missing, {INSTALL}; "
                               f"{UNSANDBOXED}.")

    @staticmethod
    def exit_status(returncode):
        """``bwrap``'s exit status as subprocess gives a process's: -N if killed by signal N.

        ``bwrap`` exits with 128 + N when the process inside was killed by signal N.
        """
        return 128 - returncode if 128 < returncode < 128 + signal.NSIG else returncode
