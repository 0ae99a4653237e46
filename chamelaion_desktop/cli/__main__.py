"""``python -m chamelaion_desktop.cli``: the same as the ``chamelaion-cli`` console script."""

from . import main

raise SystemExit(main())
