"""The scheduler tests: real Airflow components started as processes (issue 20).

This process never imports Airflow; the helper modules of this folder import
by name (pytest's importlib mode puts no test folder on ``sys.path``).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
