"""``python -m bgdsim.cli``: the ``bgdsim`` command."""

from __future__ import annotations

import sys

from bgdsim.cli.dispatch import main

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
