"""Shared test setup: make tests/ importable (strategies.py) and the golden-update flag."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
