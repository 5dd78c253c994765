"""The contracts tests' shared generation helpers are a plain module beside this file (tests are
not a package and run with --import-mode=importlib)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
