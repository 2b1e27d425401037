"""An example bgdsim plugin: the ``cge`` aggregator and the ``constant_drift`` attack.

Neither module is imported by this package's ``__init__``: bgdsim imports each one
through its entry point the first time a scenario names it.
"""

__version__ = "0.1.0"
