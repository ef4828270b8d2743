"""``python -m nswg``: see :mod:`nswg.cli`."""

import sys

from nswg.cli import main

sys.exit(main())
