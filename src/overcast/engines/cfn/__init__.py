"""The CloudFormation engine: pure, no I/O, no clock.

Template text → `template.parse_template` (JSON/YAML, short-form tags) → `Template` →
`parameters.resolve_parameters` (types, constraints, defaults) → `model.prepare` (conditions,
`rules` assertions, resources kept by their conditions, the dependency graph and its levels) →
`plan.plan_create / plan_update / plan_delete` (old vs new: a `Plan` of frozen
Create/Update/Replace/NoOp/Delete actions in dependency order, `replacement` saying which property
changes replace). The CloudFormation service carries a plan out, resolving each resource's
properties with `intrinsics.resolve` in a scope that reads real resource values, then the
`dynamic` references ({{resolve:ssm:...}}) it reads from other services.
Imports nothing from Overcast but this package (and PyYAML).
"""

from overcast.engines.cfn.errors import TemplateError

__all__ = ["TemplateError"]
