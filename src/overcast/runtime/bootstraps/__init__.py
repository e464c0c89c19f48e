"""Bootstraps shipped as package data: each runs inside an execution environment and speaks the
Lambda Runtime API to the server. They import nothing from Overcast."""

from pathlib import Path

BOOTSTRAP_DIR = Path(__file__).resolve().parent
PYTHON_BOOTSTRAP = BOOTSTRAP_DIR / "python_bootstrap.py"
NODE_BOOTSTRAP = BOOTSTRAP_DIR / "node_bootstrap.mjs"
