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
# The CPU budget starts after the imports (torch alone takes seconds).
_usage = resource.getrusage(resource.RUSAGE_SELF)
_cpu = int(math.ceil(_usage.ru_utime + _usage.ru_stime)) + {cpu}
resource.setrlimit(resource.RLIMIT_CPU, (_cpu, _cpu + 1))
payload = sys.stdin.buffer.read()
inputs = dict(np.load(io.BytesIO(payload), allow_pickle=False))
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


sys.addaudithook(_hook)
try:
    namespace = {{"np": np, "numpy": np, "math": math, "__name__": "sandboxed"}}
    {torch_namespace}
    exec(compile(SOURCE, "<reward code>", "exec"), namespace)
    fn = namespace[{function!r}]
    args = {{k: ({to_input})(v) for k, v in inputs.items()}}
    result = fn(**args)
    total, parts = (result if isinstance(result, tuple) else (result, {{}}))
    def arr(v):
        if hasattr(v, "detach"):
            v = v.detach().cpu().numpy()
        return np.asarray(v, dtype=np.float64)
    outputs = {{"__total__": arr(total)}}
    outputs.update({{"c_" + str(k): arr(v) for k, v in dict(parts).items()}})
    buf = io.BytesIO()
    np.savez(buf, **outputs)
    out_stream.write(buf.getvalue())
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
    uses_torch = "torch" in source
    script = _CHILD.format(
        mem=int(limits.memory_bytes),
        cpu=int(limits.cpu_seconds),
        fsize=int(limits.file_bytes),
        paths=library_paths(),
        source=source,
        function=function,
        torch_import="import torch\ntorch.set_num_threads(1)" if uses_torch else "",
        torch_namespace='namespace["torch"] = torch' if uses_torch else "pass",
        to_input="torch.from_numpy" if uses_torch else "np.asarray",
    )
    buf = io.BytesIO()
    arrays: dict[str, Any] = {k: np.asarray(v, dtype=np.float64) for k, v in inputs.items()}
    np.savez(buf, **arrays)
    env = {"PATH": os.environ.get("PATH", ""), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1", "LANG": "C.UTF-8"}
    with tempfile.TemporaryDirectory(prefix="studio-sandbox-") as tmp:
        proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", script],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            cwd=tmp, env=env, start_new_session=True,
        )
        try:
            out, err = proc.communicate(buf.getvalue(), timeout=limits.wall_seconds)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise SandboxError(
                f"{name} ran longer than {limits.wall_seconds:g} s (wall clock) and was killed: "
                "look for an endless loop"
            ) from None
    text = err.decode(errors="replace")
    if proc.returncode == -24 or "SIGXCPU" in text:  # SIGXCPU
        raise SandboxError(
            f"{name} used more than {limits.cpu_seconds} s of CPU time and was killed: look for an endless loop"
        )
    if proc.returncode != 0:
        marker = [ln for ln in text.splitlines() if ln.startswith("SANDBOX-ERROR ")]
        if marker:
            raise SandboxError(f"{name} failed: {marker[-1].removeprefix('SANDBOX-ERROR ')}")
        if proc.returncode < 0:
            raise SandboxError(f"{name} was killed by signal {-proc.returncode} (a sandbox limit)")
        raise SandboxError(f"{name} failed (exit {proc.returncode}): {text.strip()[-500:]}")
    data = np.load(io.BytesIO(out), allow_pickle=False)
    parts = {k[2:]: data[k] for k in data.files if k.startswith("c_")}
    return data["__total__"], parts
