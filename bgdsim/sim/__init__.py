"""The SimPy discrete-event runtime."""

from bgdsim.sim.runtime import default_log_path, paper_floor, run

__all__ = ["default_log_path", "paper_floor", "run"]
