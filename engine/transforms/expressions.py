"""A safe expression language for row filters and computed values.

`status == 'active' and total > 100`, `coalesce(nickname, first_name) + ' ' + last_name`.
The text is parsed with Python's `ast` (Python syntax, so no surprises for authors), every node is
checked against a whitelist, and the tree is compiled once into nested closures. Nothing is ever
passed to eval/exec, no attribute or item access exists, and only the functions in
`_expr_functions.FUNCTIONS` can be called. A column missing from the row reads as None.
"""

from __future__ import annotations

import ast
import math
import warnings
from collections.abc import Callable, Mapping
from typing import Any, Final

from engine.transforms import _expr_runtime as rt
from engine.transforms._expr_functions import FUNCTIONS
from engine.transforms._expr_runtime import ExpressionEvalError

__all__ = [
    "Evaluator",
    "ExpressionError",
    "ExpressionEvalError",
    "compile_expression",
    "referenced_columns",
]

Evaluator = Callable[[Mapping[str, Any]], Any]

MAX_LENGTH: Final = 2000
MAX_DEPTH: Final = 40

_COMPARE: dict[type[ast.cmpop], rt.Op] = {
    ast.Eq: rt.equal,
    ast.NotEq: rt.not_equal,
    ast.Lt: rt.less,
    ast.LtE: rt.less_equal,
    ast.Gt: rt.greater,
    ast.GtE: rt.greater_equal,
    ast.In: rt.member,
    ast.NotIn: rt.not_member,
}
_ARITHMETIC: dict[type[ast.operator], rt.Op] = {
    ast.Add: rt.add,
    ast.Sub: rt.subtract,
    ast.Mult: rt.multiply,
    ast.Div: rt.divide,
    ast.Mod: rt.modulo,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.Not: lambda value: not value,
    ast.USub: rt.negate,
    ast.UAdd: rt.positive,
}
_CONSTANT_TYPES = (str, int, float, bool, type(None))
_REFUSED: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access (a.b)",
    ast.Subscript: "subscript (a[b])",
    ast.Lambda: "lambda",
    ast.ListComp: "comprehension",
    ast.SetComp: "comprehension",
    ast.DictComp: "comprehension",
    ast.GeneratorExp: "comprehension",
    ast.NamedExpr: "assignment (:=)",
    ast.Dict: "dict literal",
    ast.Set: "set literal",
    ast.JoinedStr: "f-string",
    ast.Starred: "* unpacking",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Slice: "slice",
}
_OPERATOR_NAMES: dict[type[ast.AST], str] = {
    ast.Pow: "**",
    ast.FloorDiv: "//",
    ast.MatMult: "@",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.Invert: "~",
}


class ExpressionError(ValueError):
    """The expression text is not valid: a syntax error or a construct outside the language."""

    def __init__(self, message: str, column_offset: int) -> None:
        super().__init__(f"{message} (at character {column_offset + 1})")
        self.message = message
        self.column_offset = column_offset


# operators of SQL, C or JavaScript that people write in a filter, and what this language says
_FOREIGN_OPERATORS = (
    ("<>", "!=", "'not equal'"),
    ("===", "==", "'equal'"),
    ("!==", "!=", "'not equal'"),
    ("&&", "and", "'and'"),
    ("||", "or", "'or'"),
)


def _operator_hint(source: str) -> str:
    for written, meant, what in _FOREIGN_OPERATORS:
        if written in source:
            return f"; {written} is not an operator here: use {meant} for {what}"
    return ""


def compile_expression(text: str) -> Evaluator:
    """Compile once; the result maps a row to a value. Raises ExpressionError on bad text."""
    return _Compiler(text).compile()


def referenced_columns(text: str) -> set[str]:
    """The column names the expression reads (so a spec can be checked against the source)."""
    compiler = _Compiler(text)
    compiler.compile()
    return set(compiler.columns)


class _Compiler:
    """Turns one expression's AST into closures, refusing anything off the whitelist."""

    def __init__(self, text: str) -> None:
        self.text = text
        line = text.replace("\r", " ").replace("\n", " ")  # a YAML block reads as one line
        self.source = line.strip()
        self.start = len(line) - len(line.lstrip())
        self.columns: set[str] = set()
        self.depth = 0

    def compile(self) -> Evaluator:
        if len(self.text) > MAX_LENGTH:
            raise ExpressionError(f"expression longer than {MAX_LENGTH} characters", MAX_LENGTH)
        if not self.source:
            raise ExpressionError("empty expression", 0)
        if "\x00" in self.text:
            raise ExpressionError("expression contains a NUL character", self.text.index("\x00"))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", SyntaxWarning)  # '1and 2' is refused, not warned
                tree = ast.parse(self.source, mode="eval")
        except SyntaxError as exc:
            offset = (exc.offset or 0) - 1
            column = offset if 0 <= offset < len(self.source) else len(self.source)
            hint = _operator_hint(self.source)
            raise ExpressionError(f"syntax error: {exc.msg}{hint}", self.start + column) from None
        except (MemoryError, RecursionError):
            raise ExpressionError("expression is nested too deeply", 0) from None
        return self.node(tree.body)

    def offset(self, node: ast.AST) -> int:
        """Character offset of a node in the text (ast gives UTF-8 byte offsets)."""
        column = getattr(node, "col_offset", 0)
        return self.start + len(self.source.encode()[:column].decode(errors="ignore"))

    def refuse(self, node: ast.AST, message: str) -> ExpressionError:
        return ExpressionError(message, self.offset(node))

    def node(self, node: ast.AST) -> Evaluator:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.refuse(node, f"expression nested deeper than {MAX_DEPTH} levels")
        try:
            handler = _HANDLERS.get(type(node))
            if handler is None:
                raise self.refuse(node, f"{self.describe(node)} is not allowed")
            return handler(self, node)
        finally:
            self.depth -= 1

    @staticmethod
    def describe(node: ast.AST) -> str:
        if type(node) in _REFUSED:
            return _REFUSED[type(node)]
        return f"{type(node).__name__} syntax"

    def constant(self, node: ast.Constant) -> Evaluator:
        value = node.value
        if not isinstance(value, _CONSTANT_TYPES):
            raise self.refuse(node, f"{type(value).__name__} literals are not allowed")
        if isinstance(value, float) and not math.isfinite(value):
            raise self.refuse(node, "number literal out of range")
        return lambda _row: value

    def name(self, node: ast.Name) -> Evaluator:
        return self.column(node.id)

    def column(self, name: str) -> Evaluator:
        self.columns.add(name)
        return lambda row: row.get(name)

    def bool_op(self, node: ast.BoolOp) -> Evaluator:
        parts = [self.node(value) for value in node.values]
        if isinstance(node.op, ast.And):

            def all_of(row: Mapping[str, Any]) -> Any:
                result: Any = True
                for part in parts:
                    result = part(row)
                    if not result:
                        return result
                return result

            return all_of

        def any_of(row: Mapping[str, Any]) -> Any:
            result: Any = False
            for part in parts:
                result = part(row)
                if result:
                    return result
            return result

        return any_of

    def unary_op(self, node: ast.UnaryOp) -> Evaluator:
        apply = _UNARY.get(type(node.op))
        if apply is None:
            raise self.refuse(node, f"operator {_OPERATOR_NAMES[type(node.op)]} is not allowed")
        operand = self.node(node.operand)
        return lambda row: apply(operand(row))

    def bin_op(self, node: ast.BinOp) -> Evaluator:
        apply = _ARITHMETIC.get(type(node.op))
        if apply is None:
            raise self.refuse(node, f"operator {_OPERATOR_NAMES[type(node.op)]} is not allowed")
        left, right = self.node(node.left), self.node(node.right)
        if isinstance(node.left, ast.Constant) and isinstance(node.right, ast.Constant):
            try:  # constants only: an error here would reject every row, so refuse the spec
                apply(left({}), right({}))
            except ExpressionEvalError as exc:
                raise self.refuse(node, str(exc)) from None
        return lambda row: apply(left(row), right(row))

    def if_exp(self, node: ast.IfExp) -> Evaluator:
        test, body, orelse = self.node(node.test), self.node(node.body), self.node(node.orelse)
        return lambda row: body(row) if test(row) else orelse(row)

    def compare_op(self, node: ast.Compare) -> Evaluator:
        left = self.node(node.left)
        pairs = zip(node.ops, node.comparators, strict=True)
        steps = [self.comparison(op, right) for op, right in pairs]
        if len(steps) == 1:
            ((compare, right),) = steps
            return lambda row: compare(left(row), right(row))

        def chain(row: Mapping[str, Any]) -> bool:
            current = left(row)
            for compare, right in steps:
                following = right(row)
                if not compare(current, following):
                    return False
                current = following
            return True

        return chain

    def comparison(self, op: ast.cmpop, right: ast.expr) -> tuple[rt.Op, Evaluator]:
        if isinstance(op, ast.Is | ast.IsNot):
            if not (isinstance(right, ast.Constant) and right.value is None):
                raise self.refuse(right, "'is' is only allowed as 'is None' / 'is not None'")
            same = isinstance(op, ast.Is)
            return (lambda value, _none: (value is None) is same), self.node(right)
        compare = _COMPARE[type(op)]
        if isinstance(op, ast.In | ast.NotIn) and isinstance(right, ast.List | ast.Tuple):
            return compare, self.literal_list(right)
        return compare, self.node(right)

    def literal_list(self, node: ast.List | ast.Tuple) -> Evaluator:
        items = [self.node(element) for element in node.elts]
        if all(isinstance(element, ast.Constant) for element in node.elts):
            constants = tuple(item({}) for item in items)
            return lambda _row: constants
        return lambda row: tuple(item(row) for item in items)

    def bare_list(self, node: ast.List) -> Evaluator:
        raise self.refuse(node, "a list is only allowed after 'in' / 'not in'")

    def call(self, node: ast.Call) -> Evaluator:
        if not isinstance(node.func, ast.Name):
            raise self.refuse(node, "only the built-in functions can be called")
        name = node.func.id
        if node.keywords:
            raise self.refuse(node, f"keyword arguments are not allowed (in {name}())")
        if name == "col":
            return self.column_call(node)
        function = FUNCTIONS.get(name)
        if function is None:
            known = ", ".join(["col", *sorted(FUNCTIONS)])
            raise self.refuse(node, f"function {name!r} is not allowed; known: {known}")
        count = len(node.args)
        if count < function.min_args or (
            function.max_args is not None and count > function.max_args
        ):
            raise self.refuse(node, f"{function.signature} called with {count} argument(s)")
        args = [self.node(arg) for arg in node.args]
        call = function.call
        if len(args) == 1:
            (only,) = args
            return lambda row: call(only(row))
        return lambda row: call(*[arg(row) for arg in args])

    def column_call(self, node: ast.Call) -> Evaluator:
        """col('order total'): a column whose name is not an identifier."""
        if len(node.args) != 1 or not (
            isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
        ):
            raise self.refuse(node, "col() takes one quoted column name, e.g. col('order total')")
        return self.column(node.args[0].value)


_HANDLERS: dict[type[ast.AST], Callable[[_Compiler, Any], Evaluator]] = {
    ast.Constant: _Compiler.constant,
    ast.Name: _Compiler.name,
    ast.BoolOp: _Compiler.bool_op,
    ast.UnaryOp: _Compiler.unary_op,
    ast.BinOp: _Compiler.bin_op,
    ast.IfExp: _Compiler.if_exp,
    ast.Compare: _Compiler.compare_op,
    ast.List: _Compiler.bare_list,
    ast.Tuple: _Compiler.bare_list,
    ast.Call: _Compiler.call,
}
"""The whitelist: a node type not in this table is refused."""
