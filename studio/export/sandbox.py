"""The sandbox for untrusted reward code: see :mod:`studio.sim.sandbox`.

It lives in ``studio.sim`` so that training (which may not import ``studio.export``) can
run imported *code terms* through it; this module keeps the export layer's name.
"""

from studio.sim.sandbox import (
    SandboxError,
    SandboxLimits,
    SandboxWorker,
    library_paths,
    run_sandboxed,
)

__all__ = ["SandboxError", "SandboxLimits", "SandboxWorker", "library_paths", "run_sandboxed"]
