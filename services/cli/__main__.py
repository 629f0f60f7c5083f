"""``python -m services.cli ...``: the ``zhiyuan`` command without its script."""

import sys

from services.cli import main

sys.exit(main())
