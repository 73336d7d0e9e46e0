"""`python -m gategrad.cli`, as the `gategrad` command."""

import sys

from gategrad.cli import main

sys.exit(main())
