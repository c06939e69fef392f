"""What every job backend shares: the exception that sends the manager back to local workers, and the variable
that asks for a cluster."""
from __future__ import annotations

RAY_ADDRESS_VARIABLE = "FMNIST_RAY_ADDRESS"


class BackendUnavailable(RuntimeError):
    """A backend that cannot take jobs now (a cluster that does not answer); the manager falls back to local."""
