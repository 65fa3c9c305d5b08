"""The alert tests' folder on ``sys.path``.

The helpers live in ``alert_support.py``, importable by the modules of this
folder (pytest's importlib mode puts no test folder on ``sys.path``). The
``receiver`` fixture (a real HTTP server) is the suite's, in tests/conftest.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
