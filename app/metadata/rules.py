"""Cross-field rules of a register (``rules:``): their small expression language, its type check and evaluation.

A rule is a comparison (``left op right``, right being a field, ``today`` or a number) or an expression over
the register's fields. Expressions are parsed by the standard library's ``ast`` module and walked here node by
node over a short whitelist (names, numbers, texts, lists, comparisons, ``and``/``or``/``not``, ``+ - * /``):
nothing is ever passed to ``eval``, and a name that is not a field or ``today`` is refused by ``metadata check``.
A rule with an empty field holds (emptiness is what ``required`` and ``required_when`` say); a date minus a date
is a number of days, a date plus a number is a date that many days later.

The same language computes the value of a ``compute`` field (docs/metadata.md §4.7), which may also read
``<reference>.<field>``, a field of the row a reference points to; there a comparison with an empty field is
false and a number computed from one is empty.
"""
from __future__ import annotations

import ast
import operator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable, Mapping, TypeAlias

if TYPE_CHECKING:
    from .spec import RegisterRule

#: the kind of value each field type holds, for the type check; None: a field no rule can compare
KIND_OF_TYPE = {"date": "date", "datetime": "date", "integer": "number", "decimal": "number", "string": "text",
                "text": "text", "enum": "text", "tree": "text", "boolean": "boolean"}
ORDERED = ("date", "number")

#: the comparisons and arithmetic of the language, by the ast node of their operator
Operation: TypeAlias = Callable[[Any, Any], Any]
COMPARE: dict[type[ast.cmpop], Operation] = {
    ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Eq: operator.eq,
    ast.NotEq: operator.ne, ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b}
OP_OF_TEXT = {"<": ast.Lt, "<=": ast.LtE, ">": ast.Gt, ">=": ast.GtE, "==": ast.Eq, "!=": ast.NotEq}
ARITHMETIC: dict[type[ast.operator], Operation] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


class RuleError(ValueError):
    """A rule that cannot be parsed or does not type-check; the message says what and where."""


class _Empty(Exception):
    """A field of the rule is empty: the rule holds."""


@dataclass(frozen=True)
class Compiled:
    """A rule ready to evaluate: the fields it reads and a function of their values."""

    fields: tuple[str, ...]
    test: Callable[[Mapping[str, Any], date], bool]


def comparison_source(left: str, op: str, right: Any) -> str:
    """A comparison rule written as an expression (one evaluator for both forms)."""
    return f"{left} {op} {right!r}" if not isinstance(right, str) else f"{left} {op} {right}"


def parse(source: str, references: bool = False) -> ast.expr:
    """The expression's tree; ``references``: it may read ``<reference>.<field>`` (a ``compute``, not a rule)."""
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise RuleError(f"cannot read the expression '{source}' ({exc.msg})") from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise RuleError(f"'{ast.unparse(node) if isinstance(node, ast.expr) else type(node).__name__}' is not "
                            "part of the rule language (fields, today, numbers, '…' texts, [lists], comparisons, "
                            "and/or/not, + - * /)")
        if isinstance(node, ast.Constant) and (isinstance(node.value, bool) or not isinstance(node.value, (int, float, str))):
            raise RuleError(f"'{node.value!r}' is not a value of the rule language (numbers and quoted texts)")
        if isinstance(node, ast.Attribute) and not references:
            raise RuleError(f"'{ast.unparse(node)}' is not part of the rule language (a rule reads the row's own "
                            "fields)")
        if isinstance(node, ast.Attribute) and not isinstance(node.value, ast.Name):
            raise RuleError(f"'{ast.unparse(node)}': a field of a referenced row is <reference>.<field>, one step")
    return tree.body


_ALLOWED = (ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.BinOp, ast.Compare,
            ast.Name, ast.Attribute, ast.Load, ast.Constant, ast.List, ast.Tuple, *COMPARE, *ARITHMETIC)


def _name_of(node: ast.AST) -> str | None:
    """A field (``value``) or a field of a referenced row (``point.upper_limit``) the expression reads."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return f"{node.value.id}.{node.attr}"
    return None


def names(tree: ast.expr) -> list[str]:
    """The names an expression reads, in order (fields, ``<reference>.<field>`` and ``today``)."""
    seen: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) or (isinstance(node, ast.Name) and not _inside_attribute(node, tree)):
            name = _name_of(node)
            if name is not None and name not in seen:
                seen.append(name)
    return seen


def _inside_attribute(node: ast.Name, tree: ast.expr) -> bool:
    return any(isinstance(n, ast.Attribute) and n.value is node for n in ast.walk(tree))


# ---------------------------------------------------------------- type check (metadata check)

def kind_of(tree: ast.expr, field_kinds: Mapping[str, str | None]) -> str:
    """The kind of value the expression gives ('date', 'number', 'text', 'boolean', 'list'); RuleError on a
    name that is no comparable field or on kinds that do not go together."""
    if isinstance(tree, (ast.Name, ast.Attribute)):
        name = _name_of(tree)
        if name == "today":
            return "date"
        if name is None or name not in field_kinds:
            raise RuleError(f"unknown field '{name}'")
        kind = field_kinds[name]
        if kind is None:
            raise RuleError(f"field '{name}' cannot be compared (only dates, numbers, texts, codes and yes/no)")
        return kind
    if isinstance(tree, ast.Constant):
        return "text" if isinstance(tree.value, str) else "number"
    if isinstance(tree, (ast.List, ast.Tuple)):
        kinds = {kind_of(e, field_kinds) for e in tree.elts}
        if len(kinds) > 1:
            raise RuleError(f"the list {ast.unparse(tree)} mixes {' and '.join(sorted(kinds))}")
        return "list:" + (kinds.pop() if kinds else "text")
    if isinstance(tree, ast.UnaryOp):
        inner = kind_of(tree.operand, field_kinds)
        if isinstance(tree.op, ast.USub) and inner != "number":
            raise RuleError(f"'-' needs a number in {ast.unparse(tree)}")
        return "boolean" if isinstance(tree.op, ast.Not) else inner
    if isinstance(tree, ast.BoolOp):
        for value in tree.values:
            if kind_of(value, field_kinds) != "boolean":
                raise RuleError(f"'{ast.unparse(value)}' is not a condition (and/or join comparisons)")
        return "boolean"
    if isinstance(tree, ast.BinOp):
        return _arithmetic_kind(tree, kind_of(tree.left, field_kinds), kind_of(tree.right, field_kinds))
    if isinstance(tree, ast.Compare):
        left = kind_of(tree.left, field_kinds)
        for op, comparator in zip(tree.ops, tree.comparators):
            right = kind_of(comparator, field_kinds)
            _compare_kinds(tree, op, left, right)
            left = right
        return "boolean"
    raise RuleError(f"'{ast.unparse(tree)}' is not part of the rule language")


def _arithmetic_kind(tree: ast.BinOp, left: str, right: str) -> str:
    if left == right == "number":
        return "number"
    if isinstance(tree.op, ast.Sub) and left == right == "date":
        return "number"  # days between
    if isinstance(tree.op, (ast.Add, ast.Sub)) and left == "date" and right == "number":
        return "date"
    raise RuleError(f"cannot compute {ast.unparse(tree)}: {left} {_symbol(tree.op)} {right}")


def _compare_kinds(tree: ast.Compare, op: ast.cmpop, left: str, right: str) -> None:
    if isinstance(op, (ast.In, ast.NotIn)):
        if right != f"list:{left}":
            raise RuleError(f"'in' needs a list of {left} values in {ast.unparse(tree)}")
        return
    if left != right:
        raise RuleError(f"{ast.unparse(tree)} compares a {left} with a {right}")
    if left not in ORDERED and not isinstance(op, (ast.Eq, ast.NotEq)):
        raise RuleError(f"{ast.unparse(tree)}: a {left} can only be compared with == or !=")


def _symbol(op: ast.operator) -> str:
    return {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}[type(op)]


# ---------------------------------------------------------------- evaluation

def compile_rule(source: str) -> Compiled:
    tree = parse(source)
    return Compiled(tuple(n for n in names(tree) if n != "today"), lambda values, today: bool(
        _holds(tree, values, today)))


def _holds(tree: ast.expr, values: Mapping[str, Any], today: date, empty_holds: bool = True) -> bool:
    try:
        return bool(_value(tree, values, today, empty_holds))
    except _Empty:
        return empty_holds


def compute(tree: ast.expr, values: Mapping[str, Any], today: date, boolean: bool) -> Any:
    """The value of a ``compute`` field: a condition is true or false (false when a field it compares is empty),
    a number is a Decimal, or None when a field it needs is empty."""
    if boolean:
        return _holds(tree, values, today, empty_holds=False)
    try:
        return _value(tree, values, today, empty_holds=False)
    except _Empty:
        return None


def _value(tree: ast.expr, values: Mapping[str, Any], today: date, empty_holds: bool = True) -> Any:
    if isinstance(tree, (ast.Name, ast.Attribute)):
        name = _name_of(tree)
        value = today if name == "today" else values.get(name) if name is not None else None
        if value is None or value == "":
            raise _Empty
        return _comparable(value)
    if isinstance(tree, ast.Constant):
        return Decimal(str(tree.value)) if isinstance(tree.value, (int, float)) else tree.value
    if isinstance(tree, (ast.List, ast.Tuple)):
        return [_value(e, values, today, empty_holds) for e in tree.elts]
    if isinstance(tree, ast.UnaryOp):
        inner = _value(tree.operand, values, today, empty_holds)
        return (not inner) if isinstance(tree.op, ast.Not) else -inner
    if isinstance(tree, ast.BoolOp):
        # each part on its own: an empty field decides its own comparison (a rule: holds), not the whole rule
        results = (_holds(v, values, today, empty_holds) for v in tree.values)
        return all(results) if isinstance(tree.op, ast.And) else any(results)
    if isinstance(tree, ast.BinOp):
        left, right = _value(tree.left, values, today, empty_holds), _value(tree.right, values, today, empty_holds)
        if isinstance(left, date) and isinstance(right, date):
            return Decimal((left - right).days)
        if isinstance(left, date):
            return ARITHMETIC[type(tree.op)](left, timedelta(days=int(right)))
        return ARITHMETIC[type(tree.op)](left, right)
    if isinstance(tree, ast.Compare):
        left = _value(tree.left, values, today, empty_holds)
        for op, comparator in zip(tree.ops, tree.comparators):
            right = _value(comparator, values, today, empty_holds)
            if not COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    raise RuleError(ast.unparse(tree))


def _comparable(value: Any) -> Any:
    """Dates as dates (a datetime compares by its day), numbers as Decimal, codes as text."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Decimal(str(value))
    return value


# ---------------------------------------------------------------- a register's rules

def source_of(rule: Any) -> str:
    return rule.expr if rule.expr else comparison_source(rule.left, rule.op, rule.right)


def broken_rules(spec: Any, values: Mapping[str, Any], today: date | None = None,
                 only_fields: set[str] | frozenset[str] | None = None) -> list[Any]:
    """The register's rules the values break (``only_fields``: only rules reading one of these fields)."""
    today = today or date.today()
    found = []
    for rule in spec.rules:
        compiled = rule.compiled
        if only_fields is not None and not set(compiled.fields) & set(only_fields):
            continue
        if not compiled.test(values, today):
            found.append(rule)
    return found


def shown_on(rule: RegisterRule, present: Any) -> str | None:
    """The field a broken rule's message goes on: its declared ``field``, else the first of its fields among
    ``present`` (the form's fields, the import's columns)."""
    if rule.field and rule.field in present:
        return rule.field
    return next((name for name in rule.compiled.fields if name in present), None)


# ---------------------------------------------------------------- required_when (field conditions on values)

def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == ()


def condition_holds(condition: Any, values: Mapping[str, Any]) -> bool:
    """A field condition (equals, in, not_in, includes, is_set) on values not yet stored: the Python side of
    app/workflow/conditions.py's SQL, for the rows a form or an import is about to write."""
    value = values.get(condition.field)
    if condition.is_set is not None and condition.is_set == _empty(value):
        return False
    if condition.equals is not None and value != condition.equals:
        return False
    if condition.in_ is not None and value not in condition.in_:
        return False
    if condition.not_in is not None and value in condition.not_in:
        return False
    if condition.includes is not None and condition.includes not in (value or ()):
        return False
    return True


def missing_required(spec: Any, values: Mapping[str, Any]) -> list[Any]:
    """The fields whose ``required_when`` holds on ``values`` and which are empty (a field ``required_for`` some
    transitions is not required to save: the transition asks for it, see missing_for)."""
    return [f for f in spec.required_when_fields if _empty(values.get(f.name))
            and all(condition_holds(c, values) for c in f.required_when)]


def missing_for(spec: Any, values: Mapping[str, Any], transition: str) -> list[Any]:
    """The fields ``required_for`` this transition (while their ``required_when`` holds) that are empty."""
    return [f for f in spec.fields if transition in f.required_for and _empty(values.get(f.name))
            and all(condition_holds(c, values) for c in f.required_when)]
