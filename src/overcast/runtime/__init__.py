"""Function execution: execution environments as OS process trees, knowing no AWS service.

A caller (the Lambda service) describes a function version as a `FunctionSpec` and asks the
`Pool` to `invoke` it. The pool finds a warm `Environment` for the spec (or starts one: a
process running the runtime's bootstrap from `bootstraps/` against that environment's own
`RuntimeApi` port), counts concurrency, and hands the `Invocation` over through the Runtime API
(`/2018-06-01/runtime/invocation/next` → `/response` or `/error`). What the process prints is
collected per invocation and returned in the `InvocationResult` with duration and memory figures.
Limits (timeout, memory cgroup, private /tmp, unprivileged user) live in `limits.py`.

Processes are forked by a zygote (`zygote.py`, `bootstraps/python_zygote.py`): one pre-started
Python interpreter, with the Python bootstrap and boto3 already imported, that forks each
environment, moves it into its memory cgroup, binds its own folder over /tmp in a new mount
namespace (as root), drops to the function's user, and then runs the Python bootstrap in place
or execs the runtime's command (Node.js, a custom `bootstrap`). Without the zygote, environments
are started with `subprocess` and the same limits where they can be applied from outside.

May import engines, store and core; knows nothing of services, dispatch or the edge.
"""

from overcast.runtime.pool import ConcurrencyLimitExceeded, Pool, PoolConfig
from overcast.runtime.spec import FunctionSpec, Invocation, InvocationResult

__all__ = [
    "ConcurrencyLimitExceeded",
    "FunctionSpec",
    "Invocation",
    "InvocationResult",
    "Pool",
    "PoolConfig",
]
