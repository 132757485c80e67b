"""``python -m facefeat.cli``: the ``facefeat`` command."""

import sys

from facefeat.cli.main import main

sys.exit(main())
