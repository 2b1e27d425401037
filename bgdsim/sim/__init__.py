"""The SimPy discrete-event runtime."""

from bgdsim.sim.runtime import SimPyDriver, default_log_path, paper_floor, resolve_log_path, run

__all__ = ["SimPyDriver", "default_log_path", "paper_floor", "resolve_log_path", "run"]
