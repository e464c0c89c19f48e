"""Overcast: the AWS serverless stack on one machine.

Layers, top to bottom (imports flow downward only; see ARCHITECTURE.md):
entry (cli, app) → edge → protocol → services → dispatch → runtime → engines → store → core.
"""

__version__ = "0.1.0"
