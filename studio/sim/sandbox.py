"""Run untrusted reward code in a separate, limited process; never in the app's process.

:func:`run_sandboxed` starts a fresh interpreter (``python -I``: no user site, no
PYTHONPATH, and ``sys.path`` reduced to the standard library and site-packages, so the
studio itself is not importable there) in an empty temporary folder, and:

* limits it with ``resource.setrlimit``: address space (``RLIMIT_AS``), CPU seconds
  (``RLIMIT_CPU``: the kernel kills it with SIGXCPU), file size (``RLIMIT_FSIZE``), no core
  files; plus a wall-clock timeout after which the parent kills it;
* installs an audit hook (:func:`sys.addaudithook`) before the code is even parsed that
  refuses every ``socket.*`` event (no network), ``open`` of any path outside the
  temporary folder (no file access; this also stops importing modules not already
  loaded), directory listing, process creation (``subprocess``, ``os.system``/``exec``/
  ``spawn``/``fork``), ``ctypes`` and changes to the audit machinery;
* exchanges inputs and outputs as ``.npz`` bytes over stdin/stdout.

What this guarantees, honestly: a runaway loop or allocation is killed with a clear
error, and ordinary Python code cannot reach the network or the user's files. Audit hooks
are not a security boundary against deliberately hostile code (a C extension can open
files without raising the ``open`` event); for code from untrusted strangers, run the
studio in a container or VM. Imported reward code is never run unless the user opts in.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


class SandboxError(RuntimeError):
    """Sandboxed code failed, was refused something, or was killed; the message says which."""

    user_facing = True


@dataclass(frozen=True)
class SandboxLimits:
    """Resource limits of one sandboxed run."""

    wall_seconds: float = 15.0
    """Killed by the parent after this much real time, start-up included (about 0.5 s,
    3 s when the code uses torch)."""
    cpu_seconds: int = 5
    """Killed by the kernel (SIGXCPU) after this much CPU time, counted after the imports."""
    memory_bytes: int = 4 << 30
    """Address space limit (torch alone maps about 1.5 GiB when imported)."""
    file_bytes: int = 16 << 20
    """Largest file it may write (inside its temporary folder)."""


_CHILD = r'''
import io, os, resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({mem}, {mem}))
resource.setrlimit(resource.RLIMIT_FSIZE, ({fsize}, {fsize}))
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
sys.path[:] = {paths!r}
import math
import traceback
import typing
import numpy as np
import socket  # loaded now, so that a refusal comes from the socket.* audit events
{torch_import}


def _cpu_budget(seconds, hard):
    # The CPU budget starts after the imports (torch alone takes seconds).
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = int(math.ceil(usage.ru_utime + usage.ru_stime))
    resource.setrlimit(resource.RLIMIT_CPU, (used + seconds, used + seconds + 1 if hard else resource.RLIM_INFINITY))


SOURCE = {source!r}
ROOT = os.path.realpath(os.getcwd())
out_stream = sys.stdout.buffer
err_stream = sys.stderr

_BLOCKED_PREFIXES = ("socket.", "subprocess.", "os.exec", "os.spawn", "os.posix_spawn", "os.fork",
                     "os.system", "os.kill", "os.putenv", "os.unsetenv", "ctypes.", "sys.addaudithook",
                     "os.remove", "os.rename", "os.rmdir", "shutil.", "os.chmod", "os.chown",
                     "os.symlink", "os.link", "os.truncate", "urllib.", "http.", "webbrowser.")
_PATH_EVENTS = ("open", "os.listdir", "os.scandir", "os.mkdir", "glob.glob", "os.chdir")


class Refused(PermissionError):
    pass


def _inside(path):
    try:
        p = os.fspath(path)
    except TypeError:
        return True  # a file descriptor number: only the ones already open
    if isinstance(p, bytes):
        p = p.decode(errors="replace")
    full = os.path.realpath(os.path.join(ROOT, p))
    return full == ROOT or full.startswith(ROOT + os.sep)


def _hook(event, args):
    if event.startswith(_BLOCKED_PREFIXES):
        raise Refused(f"refused by the sandbox: {{event}} (no network, no processes, no system calls)")
    if event in _PATH_EVENTS and args and not _inside(args[0]):
        raise Refused(f"refused by the sandbox: {{event}} {{args[0]!r}} is outside its temporary folder")


def _arr(v):
    if hasattr(v, "detach"):
        v = v.detach().cpu().numpy()
    return np.asarray(v, dtype=np.float64)


def _call(fn, payload):
    inputs = dict(np.load(io.BytesIO(payload), allow_pickle=False))
    args = {{k: ({to_input})(v) for k, v in inputs.items()}}
    result = fn(**args)
    total, parts = (result if isinstance(result, tuple) else (result, {{}}))
    outputs = {{"__total__": _arr(total)}}
    outputs.update({{"c_" + str(k): _arr(v) for k, v in dict(parts).items()}})
    buf = io.BytesIO()
    np.savez(buf, **outputs)
    return buf.getvalue()


# Load what np.load/np.savez import lazily (zipfile...) while files may still be opened.
_warm = io.BytesIO()
np.savez(_warm, a=np.zeros(1))
dict(np.load(io.BytesIO(_warm.getvalue()), allow_pickle=False))
sys.addaudithook(_hook)
try:
    namespace = {{"np": np, "numpy": np, "math": math, "__name__": "sandboxed"}}
    {torch_namespace}
    exec(compile(SOURCE, "<reward code>", "exec"), namespace)
    fn = namespace[{function!r}]
    if not {loop}:
        _cpu_budget({cpu}, True)
        out_stream.write(_call(fn, sys.stdin.buffer.read()))
        out_stream.flush()
    else:
        # A long-lived worker: length-prefixed requests in, length-prefixed replies out;
        # each call gets its own CPU budget. An error ends the worker (the parent restarts it).
        while True:
            head = sys.stdin.buffer.read(8)
            if len(head) < 8:
                break
            payload = sys.stdin.buffer.read(int.from_bytes(head, "little"))
            _cpu_budget({cpu}, False)
            reply = _call(fn, payload)
            out_stream.write(len(reply).to_bytes(8, "little") + reply)
            out_stream.flush()
except MemoryError:
    err_stream.write("SANDBOX-ERROR MemoryError: the code used more memory than the sandbox allows\n")
    sys.exit(3)
except BaseException as exc:
    tb = traceback.extract_tb(exc.__traceback__)
    lines = [f.lineno for f in tb if f.filename == "<reward code>"]
    where = f" (line {{lines[-1]}})" if lines else ""
    err_stream.write(f"SANDBOX-ERROR {{type(exc).__name__}}{{where}}: {{exc}}\n")
    sys.exit(3)
'''


def library_paths() -> list[str]:
    """This interpreter's library folders (stdlib, lib-dynload, site-packages), not the source tree.

    The folder ``studio`` is imported from is left out, unless it lies inside the
    interpreter's own prefix (an installed studio lives in site-packages, with numpy). A
    virtual environment inside a source checkout keeps its site-packages.
    """
    source_root = os.path.abspath(Path(__file__).resolve().parents[2])
    prefixes = {os.path.abspath(sys.prefix), os.path.abspath(sys.base_prefix)}

    def in_prefix(path: str) -> bool:
        return any(path == pre or path.startswith(pre + os.sep) for pre in prefixes)

    def keep(p: str) -> bool:
        path = os.path.abspath(p)
        in_source = path == source_root or path.startswith(source_root + os.sep)
        return in_prefix(path) or not in_source

    return [p for p in sys.path if p and os.path.isdir(p) and keep(p)]


def run_sandboxed(
    source: str,
    function: str,
    inputs: Mapping[str, Any],
    limits: SandboxLimits | None = None,
    name: str = "code term",
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Call ``function(**inputs)`` of ``source`` in a sandboxed process.

    ``inputs`` are arrays (passed as torch tensors when the source uses torch). The
    function returns a total or ``(total, components)``; both come back as float64 arrays.

    Raises:
        SandboxError: the code raised, was refused an operation, or was killed for
            exceeding a limit; the message names ``name``, the line and the reason.
    """
    limits = limits or SandboxLimits()
    script = _script(source, function, limits, loop=False)
    with tempfile.TemporaryDirectory(prefix="studio-sandbox-") as tmp:
        proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", script],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            cwd=tmp, env=_ENV, start_new_session=True,
        )
        try:
            out, err = proc.communicate(_pack(inputs), timeout=limits.wall_seconds)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise SandboxError(
                f"{name} ran longer than {limits.wall_seconds:g} s (wall clock) and was killed: "
                "look for an endless loop"
            ) from None
    _raise_for(proc.returncode, err, limits, name)
    return _unpack(out)


_ENV = {"PATH": os.environ.get("PATH", ""), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1", "LANG": "C.UTF-8"}


def _script(source: str, function: str, limits: SandboxLimits, loop: bool) -> str:
    uses_torch = "torch" in source
    return _CHILD.format(
        mem=int(limits.memory_bytes),
        cpu=int(limits.cpu_seconds),
        fsize=int(limits.file_bytes),
        paths=library_paths(),
        source=source,
        function=function,
        loop=bool(loop),
        torch_import="import torch\ntorch.set_num_threads(1)" if uses_torch else "",
        torch_namespace='namespace["torch"] = torch' if uses_torch else "pass",
        to_input="torch.from_numpy" if uses_torch else "np.asarray",
    )


def _pack(inputs: Mapping[str, Any]) -> bytes:
    buf = io.BytesIO()
    arrays: dict[str, Any] = {k: np.asarray(v, dtype=np.float64) for k, v in inputs.items()}
    np.savez(buf, **arrays)
    return buf.getvalue()


def _unpack(out: bytes) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    data = np.load(io.BytesIO(out), allow_pickle=False)
    parts = {k[2:]: data[k] for k in data.files if k.startswith("c_")}
    return data["__total__"], parts


def _raise_for(returncode: int | None, err: bytes, limits: SandboxLimits, name: str) -> None:
    """Raise the :class:`SandboxError` a failed child's exit status and stderr describe."""
    text = err.decode(errors="replace")
    if returncode == -24 or "SIGXCPU" in text:  # SIGXCPU
        raise SandboxError(
            f"{name} used more than {limits.cpu_seconds} s of CPU time and was killed: look for an endless loop"
        )
    if returncode != 0:
        marker = [ln for ln in text.splitlines() if ln.startswith("SANDBOX-ERROR ")]
        if marker:
            raise SandboxError(f"{name} failed: {marker[-1].removeprefix('SANDBOX-ERROR ')}")
        if returncode is not None and returncode < 0:
            raise SandboxError(f"{name} was killed by signal {-returncode} (a sandbox limit)")
        raise SandboxError(f"{name} failed (exit {returncode}): {text.strip()[-500:]}")


class SandboxWorker:
    """A long-lived sandboxed process that calls ``function`` of ``source`` on each batch.

    Same limits and refusals as :func:`run_sandboxed` (the CPU budget is per call), without
    a new interpreter per call: code terms call it once per rollout during training. A
    failure ends the process; the next call starts a fresh one. ``close()`` ends it.
    """

    def __init__(self, source: str, function: str, limits: SandboxLimits | None = None,
                 name: str = "code term") -> None:
        self.source, self.function, self.name = source, function, name
        self.limits = limits or SandboxLimits()
        self._proc: subprocess.Popen[bytes] | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    def _start(self) -> subprocess.Popen[bytes]:
        self._tmp = tempfile.TemporaryDirectory(prefix="studio-sandbox-")
        return subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _script(self.source, self.function, self.limits, loop=True)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            cwd=self._tmp.name, env=_ENV, start_new_session=True,
        )

    def __call__(self, inputs: Mapping[str, Any]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """``function(**inputs)`` in the worker: (total, components) as float64 arrays."""
        if self._proc is None or self._proc.poll() is not None:
            self._proc = self._start()
        proc = self._proc
        assert proc.stdin is not None and proc.stdout is not None
        payload = _pack(inputs)
        try:
            proc.stdin.write(len(payload).to_bytes(8, "little") + payload)
            proc.stdin.flush()
            head = proc.stdout.read(8)
            reply = proc.stdout.read(int.from_bytes(head, "little")) if len(head) == 8 else b""
        except (BrokenPipeError, OSError):
            head, reply = b"", b""
        if len(head) < 8:
            try:
                _, err = proc.communicate(timeout=self.limits.wall_seconds)
            except subprocess.TimeoutExpired:
                proc.kill()
                _, err = proc.communicate()
            self._proc = None
            _raise_for(proc.returncode if proc.returncode != 0 else 1, err, self.limits, self.name)
        return _unpack(reply)

    def close(self) -> None:
        """End the worker process."""
        if self._proc is not None:
            if self._proc.stdin is not None:
                self._proc.stdin.close()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            for stream in (self._proc.stdout, self._proc.stderr):
                if stream is not None:
                    stream.close()
            self._proc = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # interpreter shutdown
            self.close()
