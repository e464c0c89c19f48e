"""`python -m overcast` is the `overcast` command."""

import sys

from overcast.cli.main import main

sys.exit(main())
