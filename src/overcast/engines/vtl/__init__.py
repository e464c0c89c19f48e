"""Velocity Template Language, as API Gateway's mapping templates use it.

Source text → `parser` (a node tree, cached in `template`) → `evaluator` (walks the tree with a
scope of plain values and host objects) → a string. `apigw` supplies API Gateway's $input,
$util, $context and $stageVariables; `jsonpath` the paths $input.json/$input.path take. Pure:
imports nothing above core.
"""

from overcast.engines.vtl.apigw import mapping_variables, render_mapping
from overcast.engines.vtl.evaluator import VtlRuntimeError
from overcast.engines.vtl.parser import VtlSyntaxError
from overcast.engines.vtl.template import render

__all__ = ["VtlRuntimeError", "VtlSyntaxError", "mapping_variables", "render", "render_mapping"]
