"""``python -m sumu_contracts``: the same CLI as the ``sumu-contracts`` console script."""

import sys

from sumu_contracts.cli import main

sys.exit(main())
