"""`python -m sumu_local.gateway --config FILE [--port N]`: the same as `sumu gateway`."""

import sys

from sumu_local.gateway.cli import main

sys.exit(main())
