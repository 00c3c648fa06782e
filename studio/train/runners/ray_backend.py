"""The Ray runner: each run is a Ray actor, on whichever node of a cluster has room.

When a user outgrows one machine, the K candidates of a refinement round (or a sweep) run
on an existing Ray cluster (``address="ray://…"`` or ``"auto"``); with no address a local
Ray instance is started on the loopback interface. Ray is an optional extra
(``pip install reward-studio[ray]``) and is imported only here.

A run trains inside its actor exactly as in a local process (``run_training`` in a thread,
so the actor keeps answering), but in a folder of the worker's own: a remote node shares
no file system with the app. Whenever the run reports a checkpoint, and when it ends, the
handle copies the folder's new files back into the run's folder in the workspace and
rewrites the checkpoint's path, so metrics, checkpoints and everything the run wrote
arrive exactly as a local run's do. The actor asks for a GPU when the cluster has one.

A worker or node that dies is reported as :class:`~studio.train.messages.Failed` with the
cause; :meth:`RayHandle.retry` starts a new actor that resumes from the last checkpoint
copied back.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import shutil
import socket
import tempfile
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

from studio.core.atomic import atomic_writer
from studio.train.loop import RunSpec, run_training
from studio.train.messages import (
    Checkpointed,
    Command,
    Failed,
    Finished,
    Message,
    Pause,
    Resume,
    Stop,
    UpdateDesign,
)

__all__ = ["RayHandle", "RayRunner", "TrainActor", "import_ray"]

# Ray advertises the machine's network address by default, even for a local instance;
# a local instance started by the studio must stay on loopback. Read when ray is imported.
_LOOPBACK_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


def import_ray(local: bool) -> Any:
    """The ``ray`` module; ``local``: a local instance it starts stays on loopback."""
    if local:
        os.environ.setdefault(_LOOPBACK_ENV, "0")
    try:
        import ray
    except ImportError:
        raise RuntimeError(
            "the Ray backend needs Ray: pip install 'reward-studio[ray]' (or use --backend local)"
        ) from None
    return ray


def _folder_files(folder: Path, seen: dict[str, float]) -> dict[str, bytes]:
    """Files under ``folder`` that are new or changed since ``seen`` (updated in place)."""
    out: dict[str, bytes] = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or ".tmp" in path.name:
            continue
        rel = path.relative_to(folder).as_posix()
        mtime = path.stat().st_mtime
        if seen.get(rel) != mtime:
            seen[rel] = mtime
            out[rel] = path.read_bytes()
    return out


class TrainActor:
    """The body of one run's Ray actor (a plain class: Ray wraps it, tests can call it)."""

    def __init__(self, spec: RunSpec, files: dict[str, bytes]) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix=f"studio-{spec.run_key}-"))
        for rel, data in files.items():  # a retry starts from the checkpoint copied back
            target = self._dir / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        self._spec = replace(spec, run_dir=str(self._dir))
        self._out: queue.Queue[bytes] = queue.Queue()
        self._commands: queue.Queue[Command] = queue.Queue()
        self._seen: dict[str, float] = {}
        self._thread = threading.Thread(target=self._train, name="train", daemon=True)
        self._thread.start()

    def _train(self) -> None:
        def emit(msg: Message) -> None:
            self._out.put(pickle.dumps(msg, protocol=pickle.HIGHEST_PROTOCOL))

        def next_command(block: bool) -> Command | None:
            try:
                return self._commands.get(timeout=0.1) if block else self._commands.get_nowait()
            except queue.Empty:
                return None

        try:
            run_training(self._spec, emit, next_command)
        except BaseException as exc:  # the handle must hear of it, whatever it was
            emit(Failed(f"training raised {type(exc).__name__}: {exc}"))

    def where(self) -> str:
        """Host and process of this actor, with its GPU ids when it has any."""
        gpus = os.environ.get("CUDA_VISIBLE_DEVICES", "")
        return f"{socket.gethostname()} pid {os.getpid()}" + (f" gpu {gpus}" if gpus else "")

    def pid(self) -> int:
        """The actor's process id (for tests that kill it)."""
        return os.getpid()

    def run_dir(self) -> str:
        """The worker's copy of the run's folder (paths in messages point into it)."""
        return str(self._dir)

    def drain(self) -> list[bytes]:
        """Every message since the last call, pickled."""
        out: list[bytes] = []
        while True:
            try:
                out.append(self._out.get_nowait())
            except queue.Empty:
                return out

    def command(self, cmd: Command) -> None:
        """Queue a command for the trainer (read at the next update)."""
        self._commands.put(cmd)

    def files(self) -> dict[str, bytes]:
        """Files of the run's folder written or changed since the last call."""
        return _folder_files(self._dir, self._seen)

    def cleanup(self) -> None:
        """Remove the worker's copy of the run's folder."""
        shutil.rmtree(self._dir, ignore_errors=True)


class RayHandle:
    """One run on a Ray cluster; polled from the app like a local training process."""

    def __init__(self, runner: RayRunner, spec: RunSpec, device: str) -> None:
        self._runner = runner
        self.spec = spec
        self.device = device
        self.state = "new"
        self.place = "not started"
        self._actor: Any = None
        self._pending: Any = None  # the drain call in flight
        self._ended = False
        self._remote_dir = ""

    # --- lifecycle -----------------------------------------------------------------------------
    def start(self, *, files: dict[str, bytes] | None = None) -> None:
        """Create the actor; Ray places it when the cluster has room."""
        ray = self._runner.ray
        options: dict[str, Any] = {"num_cpus": self._runner.cpus_per_run, "max_restarts": 0}
        if self.device.startswith("cuda"):
            options["num_gpus"] = 1
        actor_cls = ray.remote(TrainActor).options(**options)
        self._actor = actor_cls.remote(self.spec, files or {})
        self._ended = False
        self.state = "running"
        try:
            where, self._remote_dir = ray.get([self._actor.where.remote(), self._actor.run_dir.remote()],
                                              timeout=self._runner.timeout_s)
            self.place = f"ray {where}"
        except Exception as exc:  # placed later, or already dead: poll says which
            self.place = f"ray (placing: {type(exc).__name__})"

    def retry(self) -> None:
        """Start again in a new actor, resuming from the last checkpoint copied back."""
        run_dir = Path(self.spec.run_dir)
        files = _folder_files(run_dir, {}) if run_dir.is_dir() else {}
        self.spec = replace(self.spec, resume=True)
        self.start(files=files)

    def _call(self, method: str, *args: Any) -> None:
        if self._actor is not None and not self._ended:
            getattr(self._actor, method).remote(*args)

    def pause(self) -> None:
        """Pause at the next update."""
        self._call("command", Pause())

    def resume(self) -> None:
        """Continue after :meth:`pause`."""
        self._call("command", Resume())

    def stop(self) -> None:
        """Checkpoint and end at the next update."""
        self._call("command", Stop())

    def update_design(self, document: dict[str, Any], version_id: str) -> None:
        """Switch the reward at the next update."""
        self._call("command", UpdateDesign(document, version_id))

    def kill(self) -> None:
        """End the actor at once; :meth:`poll` reports the run as failed."""
        if self._actor is not None:
            self._runner.ray.kill(self._actor, no_restart=True)

    def is_alive(self) -> bool:
        """Until a ``Finished`` or ``Failed`` has been delivered."""
        return self._actor is not None and not self._ended

    # --- messages ------------------------------------------------------------------------------
    def _fetch_files(self) -> None:
        files: dict[str, bytes] = self._runner.ray.get(self._actor.files.remote(),
                                                      timeout=self._runner.timeout_s)
        for rel, data in files.items():
            target = Path(self.spec.run_dir) / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            with atomic_writer(target, "wb") as f:
                f.write(data)

    def _local(self, msg: Message) -> Message:
        """A message with the worker's paths turned into the workspace's."""
        if isinstance(msg, Checkpointed):
            path = Path(msg.path)
            rel = (path.relative_to(self._remote_dir) if self._remote_dir and path.is_relative_to(self._remote_dir)
                   else Path(path.name))
            return replace(msg, path=str(Path(self.spec.run_dir) / rel))
        return msg

    def poll(self, max_items: int = 100) -> list[Message]:
        """Pending messages, without blocking; a dead worker becomes one ``Failed``."""
        if self._actor is None or self._ended:
            return []
        ray = self._runner.ray
        if self._pending is None:
            self._pending = self._actor.drain.remote()
        ready, _ = ray.wait([self._pending], timeout=0)
        if not ready:
            return []
        ref, self._pending = self._pending, None
        out: list[Message] = []
        try:
            msgs = [pickle.loads(b) for b in ray.get(ref)]
            if any(isinstance(m, Checkpointed | Finished | Failed) for m in msgs):
                self._fetch_files()
        except Exception as exc:
            self._ended = True
            self.state, self.place = "ended", f"failed on {self.place}"
            return [Failed(f"the Ray worker running this run died ({type(exc).__name__}: "
                           f"{str(exc).splitlines()[0] if str(exc) else 'no reason given'}); "
                           "retry it to resume from its last checkpoint")]
        for msg in msgs:
            out.append(self._local(msg))
            if isinstance(msg, Finished | Failed):
                self._ended = True
                self.state = "ended"
                self._call_cleanup()
        return out  # all of them, even past max_items: a drained message cannot be put back

    def _call_cleanup(self) -> None:
        # The actor may already be gone; its temp folder then goes with the worker.
        with contextlib.suppress(Exception):
            self._actor.cleanup.remote()

    @property
    def pid(self) -> int | None:
        """None: the run's process lives on a Ray worker, see :attr:`place`."""
        return None

    def close(self) -> None:
        """Release the actor."""
        if self._actor is not None and self._ended:
            self._runner.ray.kill(self._actor, no_restart=True)
            self._actor = None


class RayRunner:
    """Runs on a Ray cluster (``address``), or on a local Ray instance on loopback."""

    name = "ray"

    def __init__(self, address: str | None = None, num_cpus: int | None = None,
                 cpus_per_run: float = 1.0, timeout_s: float = 60.0) -> None:
        self.ray = import_ray(local=address is None)
        if not self.ray.is_initialized():
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            if address is None:
                kwargs["num_cpus"] = num_cpus or os.cpu_count() or 1
            else:
                kwargs["address"] = address
            self.ray.init(**kwargs)
        self.cpus_per_run = cpus_per_run
        self.timeout_s = timeout_s
        self.gpu = bool(self.ray.cluster_resources().get("GPU", 0))
        self._handles: list[RayHandle] = []

    def factory(self, config: Any, design_doc: dict[str, Any], env_id: str, run_dir: str,
                **kwargs: Any) -> RayHandle:
        """A handle for one run (``RunController``'s process factory)."""
        wants_gpu = self.gpu and str(getattr(config, "device", "auto")) in ("auto", "cuda", "cuda:0")
        device = "cuda:0" if wants_gpu else "cpu"
        config = replace(config, device=device)
        if device == "cpu" and hasattr(config, "torch_threads"):
            config = replace(config, torch_threads=max(1, int(self.cpus_per_run)))
        spec = RunSpec(config, design_doc, env_id, str(run_dir), **kwargs)
        handle = RayHandle(self, spec, device)
        self._handles.append(handle)
        return handle

    def tick(self) -> None:
        """Nothing to do: Ray queues actors until the cluster has room."""

    def close(self) -> None:
        """Stop every live run (each checkpoints); the Ray instance stays for others."""
        for h in self._handles:
            if h.is_alive():
                h.stop()
