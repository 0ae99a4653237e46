"""``python -m chamelaion_desktop``: the window (see ``app.main``)."""

import sys

from .app import main

sys.exit(main())
