"""The Rules section: assertions over parameter values, checked before a stack is created or
updated. Rule conditions and assertions use the condition functions plus Fn::Contains,
Fn::EachMemberEquals and Fn::EachMemberIn."""

from __future__ import annotations

from typing import Any

from overcast.engines.cfn.errors import TemplateError
from overcast.engines.cfn.intrinsics import Scope, resolve


def _as_list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return [s.strip() for s in str(value).split(",")] if value != "" else []


def _evaluate(expr: Any, scope: Scope) -> bool:
    """A rule expression: condition functions, or the rule-only list functions."""
    if isinstance(expr, dict) and len(expr) == 1:
        name, arg = next(iter(expr.items()))
        if name == "Fn::Contains":
            items, value = resolve(arg[0], scope), resolve(arg[1], scope)
            return str(value) in _as_list(items)
        if name == "Fn::EachMemberEquals":
            items, value = resolve(arg[0], scope), resolve(arg[1], scope)
            return all(item == str(value) for item in _as_list(items))
        if name == "Fn::EachMemberIn":
            items, allowed = resolve(arg[0], scope), resolve(arg[1], scope)
            return set(_as_list(items)) <= set(_as_list(allowed))
        if name in ("Fn::And", "Fn::Or"):
            results = [_evaluate(a, scope) for a in arg]
            return all(results) if name == "Fn::And" else any(results)
        if name == "Fn::Not":
            return not _evaluate(arg[0], scope)
    value = resolve(expr, scope)
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return bool(value == "true")
    raise TemplateError("Template format error: a rule must evaluate to a boolean")


def check_rules(rules: dict[str, Any], scope: Scope) -> None:
    """Raise TemplateError with the assertion's description when a rule that applies fails."""
    for name, rule in rules.items():
        if not isinstance(rule, dict):
            raise TemplateError(f"Template format error: rule {name} must be an object")
        condition = rule.get("RuleCondition")
        if condition is not None and not _evaluate(condition, scope):
            continue
        for assertion in rule.get("Assertions") or []:
            if not _evaluate(assertion["Assert"], scope):
                raise TemplateError(
                    str(assertion.get("AssertDescription") or f"Assertion failed for rule {name}")
                )
