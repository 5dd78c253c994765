"""`python -m sumu_local.gateway gateway --config FILE`: the same as `sumu gateway`."""

import sys

from sumu_local.gateway.cli import main

sys.exit(main())
