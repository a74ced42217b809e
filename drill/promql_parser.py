"""Lexer, syntax tree and parser for the PromQL subset the drill cluster evaluates.

See `promql.py` for the supported language. Errors are `PromQLError`s whose messages follow
Prometheus' (`1:14: parse error: unexpected ...`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

SCALAR, VECTOR, MATRIX, STRING = "scalar", "instant vector", "range vector", "string"


class PromQLError(ValueError):
    """A query the drill cluster cannot parse or evaluate.

    `error_type` is the Prometheus API `errorType`: "bad_data" for parse and validation errors,
    "execution" for errors found while evaluating.
    """

    def __init__(self, message: str, error_type: str = "bad_data") -> None:
        super().__init__(message)
        self.message = message
        self.error_type = error_type


# ---- syntax tree -------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class NumberLiteral:
    value: float


@dataclass(frozen=True, eq=False)
class StringLiteral:
    value: str


@dataclass(frozen=True, eq=False)
class Matcher:
    name: str
    op: str  # = != =~ !~
    value: str
    pattern: re.Pattern[str] | None = None

    def matches(self, value: str) -> bool:
        if self.op == "=":
            return value == self.value
        if self.op == "!=":
            return value != self.value
        assert self.pattern is not None
        found = self.pattern.fullmatch(value) is not None
        return found if self.op == "=~" else not found


@dataclass(frozen=True, eq=False)
class VectorSelector:
    name: str | None
    matchers: tuple[Matcher, ...]
    offset: float = 0.0


@dataclass(frozen=True, eq=False)
class MatrixSelector:
    selector: VectorSelector
    range: float


@dataclass(frozen=True, eq=False)
class Call:
    func: str
    args: tuple[Expr, ...]


@dataclass(frozen=True, eq=False)
class Aggregate:
    op: str
    expr: Expr
    grouping: tuple[str, ...] = ()
    without: bool = False


@dataclass(frozen=True, eq=False)
class VectorMatching:
    on: bool  # True: on(labels); False: ignoring(labels)
    labels: tuple[str, ...]
    group: str = ""  # "left" (many-to-one), "right" (one-to-many) or "" (one-to-one)
    include: tuple[str, ...] = ()  # group_left(...)/group_right(...): labels copied from the "one" side


@dataclass(frozen=True, eq=False)
class Binary:
    op: str
    lhs: Expr
    rhs: Expr
    return_bool: bool = False
    matching: VectorMatching | None = None


@dataclass(frozen=True, eq=False)
class Unary:
    op: str
    expr: Expr


@dataclass(frozen=True, eq=False)
class Paren:
    expr: Expr


Expr = (
    NumberLiteral | StringLiteral | VectorSelector | MatrixSelector | Call | Aggregate | Binary
    | Unary | Paren
)

# ---- language tables ---------------------------------------------------------------------
FUNCTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "rate": ((MATRIX,), VECTOR),
    "irate": ((MATRIX,), VECTOR),
    "increase": ((MATRIX,), VECTOR),
    "delta": ((MATRIX,), VECTOR),
    "histogram_quantile": ((SCALAR, VECTOR), VECTOR),
    "clamp_min": ((VECTOR, SCALAR), VECTOR),
    "clamp_max": ((VECTOR, SCALAR), VECTOR),
    "abs": ((VECTOR,), VECTOR),
    "label_replace": ((VECTOR, STRING, STRING, STRING, STRING), VECTOR),
    "absent": ((VECTOR,), VECTOR),
    "vector": ((SCALAR,), VECTOR),
    "scalar": ((VECTOR,), SCALAR),
    "time": ((), SCALAR),
}
AGGREGATORS = frozenset({"sum", "avg", "max", "min", "count"})
UNSUPPORTED_AGGREGATORS = frozenset(
    {"topk", "bottomk", "quantile", "count_values", "stddev", "stdvar", "group", "limitk",
     "limit_ratio"}
)
COMPARISONS = frozenset({"==", "!=", "<", ">", "<=", ">="})
SET_OPS = frozenset({"and", "or", "unless"})
_PRECEDENCE = {
    "or": 1, "and": 2, "unless": 2,
    "==": 3, "!=": 3, "<": 3, ">": 3, "<=": 3, ">=": 3,
    "+": 4, "-": 4,
    "*": 5, "/": 5, "%": 5,
    "^": 6,
}
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


# ---- lexer -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Token:
    kind: str  # NUMBER DURATION STRING IDENT OP EOF
    text: str
    pos: int

    def describe(self) -> str:
        if self.kind == "EOF":
            return "end of input"
        if self.kind == "IDENT":
            return f'identifier "{self.text}"'
        if self.kind in ("NUMBER", "DURATION"):
            return f'{self.kind.lower()} "{self.text}"'
        if self.kind == "STRING":
            return f"string {self.text}"
        return f'"{self.text}"'


_DURATION = re.compile(r"(?:\d+(?:ms|s|m|h|d|w|y))+(?![\w.])")
_NUMBER = re.compile(r"0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_IDENT = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_OPERATORS = ("==", "!=", "=~", "!~", "<=", ">=", "<", ">", "=", "+", "-", "*", "/", "%", "^",
              "(", ")", "{", "}", "[", "]", ",", ":", "@")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "a": "\a",
            "b": "\b", "f": "\f", "v": "\v"}


def position(text: str, pos: int) -> str:
    """`line:column` (1-based) of an offset, as Prometheus reports it."""
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return f"{line}:{column}"


def _error(text: str, pos: int, message: str) -> PromQLError:
    return PromQLError(f"{position(text, pos)}: parse error: {message}")


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char.isspace():
            pos += 1
            continue
        if char == "#":
            end = text.find("\n", pos)
            pos = len(text) if end < 0 else end
            continue
        if char in "\"'`":
            value, end = _read_string(text, pos)
            tokens.append(Token("STRING", value, pos))
            pos = end
            continue
        match = _DURATION.match(text, pos)
        if match:
            tokens.append(Token("DURATION", match.group(), pos))
            pos = match.end()
            continue
        match = _NUMBER.match(text, pos)
        if match:
            tokens.append(Token("NUMBER", match.group(), pos))
            pos = match.end()
            continue
        match = _IDENT.match(text, pos)
        if match:
            tokens.append(Token("IDENT", match.group(), pos))
            pos = match.end()
            continue
        for op in _OPERATORS:
            if text.startswith(op, pos):
                tokens.append(Token("OP", op, pos))
                pos += len(op)
                break
        else:
            raise _error(text, pos, f"unexpected character: {char!r}")
    tokens.append(Token("EOF", "", len(text)))
    return tokens


def _read_string(text: str, start: int) -> tuple[str, int]:
    quote = text[start]
    pos = start + 1
    out: list[str] = []
    while pos < len(text):
        char = text[pos]
        if char == quote:
            return "".join(out), pos + 1
        if char == "\\" and quote != "`":
            pos += 1
            if pos >= len(text):
                break
            escape = text[pos]
            if escape in _ESCAPES:
                out.append(_ESCAPES[escape])
            elif escape in "uU" or escape == "x":
                width = {"u": 4, "U": 8, "x": 2}[escape]
                digits = text[pos + 1 : pos + 1 + width]
                if len(digits) != width or not all(c in "0123456789abcdefABCDEF" for c in digits):
                    raise _error(text, pos, "invalid escape sequence in quoted string")
                out.append(chr(int(digits, 16)))
                pos += width
            else:
                raise _error(text, pos, f"unknown escape sequence {escape!r}")
            pos += 1
            continue
        if char == "\n" and quote != "`":
            break
        out.append(char)
        pos += 1
    raise _error(text, start, "unterminated quoted string")


def parse_duration(text: str) -> float:
    """`1h30m` -> 5400.0 seconds. Raises PromQLError on bad syntax."""
    if not _DURATION.fullmatch(text):
        raise PromQLError(f'bad duration syntax: "{text}"')
    total = 0.0
    for amount, unit in re.findall(r"(\d+)(ms|s|m|h|d|w|y)", text):
        total += int(amount) * _UNITS[unit]
    return total


# ---- parser ------------------------------------------------------------------------------
def parse(text: str) -> Expr:
    """Parse a PromQL expression (the supported subset), checking operand types."""
    if not text.strip():
        raise PromQLError("1:1: parse error: no expression found in input")
    return _Parser(text).parse()


def expr_type(node: Expr) -> str:
    """The static type of an expression: scalar, instant vector, range vector or string."""
    if isinstance(node, NumberLiteral):
        return SCALAR
    if isinstance(node, StringLiteral):
        return STRING
    if isinstance(node, VectorSelector | Aggregate):
        return VECTOR
    if isinstance(node, MatrixSelector):
        return MATRIX
    if isinstance(node, Call):
        return FUNCTIONS[node.func][1]
    if isinstance(node, Unary | Paren):
        return expr_type(node.expr)
    if isinstance(node, Binary):
        both_scalar = expr_type(node.lhs) == SCALAR and expr_type(node.rhs) == SCALAR
        return SCALAR if both_scalar else VECTOR
    raise TypeError(node)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    # -- token helpers --
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, ahead: int = 1) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tok
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return token

    def is_op(self, text: str) -> bool:
        return self.tok.kind == "OP" and self.tok.text == text

    def is_word(self, *words: str) -> bool:
        return self.tok.kind == "IDENT" and self.tok.text.lower() in words

    def error(self, message: str, token: Token | None = None) -> PromQLError:
        return _error(self.text, (token or self.tok).pos, message)

    def unexpected(self, context: str = "", expected: str = "") -> PromQLError:
        message = f"unexpected {self.tok.describe()}"
        if context:
            message += f" in {context}"
        if expected:
            message += f", expected {expected}"
        return self.error(message)

    def expect_op(self, text: str, context: str) -> Token:
        if not self.is_op(text):
            raise self.unexpected(context, f'"{text}"')
        return self.advance()

    # -- grammar --
    def parse(self) -> Expr:
        node = self.parse_binary(1)
        if self.tok.kind != "EOF":
            if self.is_op(")"):
                raise self.error('unexpected right parenthesis ")"')
            raise self.unexpected()
        return node

    def binary_op(self) -> str | None:
        token = self.tok
        if token.kind == "OP" and token.text in _PRECEDENCE:
            return token.text
        if token.kind == "IDENT" and token.text.lower() in SET_OPS:
            return token.text.lower()
        return None

    def parse_binary(self, min_precedence: int) -> Expr:
        lhs = self.parse_unary()
        while True:
            op = self.binary_op()
            if op is None or _PRECEDENCE[op] < min_precedence:
                return lhs
            op_token = self.advance()
            return_bool = False
            if self.is_word("bool"):
                if op not in COMPARISONS:
                    raise self.error("bool modifier can only be used on comparison operators")
                self.advance()
                return_bool = True
            matching = None
            if self.is_word("on", "ignoring"):
                on = self.advance().text.lower() == "on"
                matching = VectorMatching(on, self.parse_label_list("grouping opts"))
            if self.is_word("group_left", "group_right"):
                if matching is None:
                    raise self.unexpected("binary expression")
                group_token = self.advance()
                if op in SET_OPS:
                    raise self.error(f'no grouping allowed for "{op}" operation', group_token)
                include: tuple[str, ...] = ()
                if self.is_op("("):
                    include = self.parse_label_list("grouping opts")
                if matching.on and set(include) & set(matching.labels):
                    raise self.error(
                        "label names must not occur in both ON and GROUP clause", group_token)
                matching = replace(matching, group=group_token.text.lower()[len("group_"):],
                                   include=include)
            precedence = _PRECEDENCE[op]
            rhs = self.parse_binary(precedence if op == "^" else precedence + 1)
            lhs = self.check_binary(Binary(op, lhs, rhs, return_bool, matching), op_token)

    def check_binary(self, node: Binary, token: Token) -> Binary:
        types = (expr_type(node.lhs), expr_type(node.rhs))
        if any(t not in (SCALAR, VECTOR) for t in types):
            raise self.error(
                "binary expression must contain only scalar and instant vector types", token
            )
        both_scalar = types == (SCALAR, SCALAR)
        if node.op in SET_OPS and SCALAR in types:
            raise self.error(
                f'set operator "{node.op}" not allowed in binary scalar expression', token
            )
        if node.op in COMPARISONS and both_scalar and not node.return_bool:
            raise self.error("comparisons between scalars must use BOOL modifier", token)
        if node.matching is not None and SCALAR in types:
            raise self.error("vector matching only allowed between instant vectors", token)
        return node

    def parse_unary(self) -> Expr:
        if self.is_op("-") or self.is_op("+"):
            op = self.advance().text
            operand = self.parse_binary(_PRECEDENCE["^"])
            kind = expr_type(operand)
            if kind not in (SCALAR, VECTOR):
                raise self.error(
                    f"unary expression only allowed on expressions of type scalar or instant "
                    f"vector, got {kind}"
                )
            if isinstance(operand, NumberLiteral):
                return NumberLiteral(-operand.value if op == "-" else operand.value)
            return operand if op == "+" else Unary(op, operand)
        return self.parse_postfix(self.parse_primary())

    def parse_postfix(self, node: Expr) -> Expr:
        while True:
            if self.is_op("["):
                node = self.parse_range(node)
            elif self.is_word("offset"):
                node = self.parse_offset(node)
            elif self.is_op("@"):
                raise self.error("the @ modifier is not supported by the drill cluster")
            else:
                return node

    def parse_range(self, node: Expr) -> Expr:
        start = self.advance()
        if not isinstance(node, VectorSelector):
            raise self.error("ranges only allowed for vector selectors", start)
        if node.offset:
            raise self.error("offset must follow the range: write x[5m] offset 1h", start)
        if self.tok.kind != "DURATION":
            if self.tok.kind == "EOF":
                raise self.error("unclosed left bracket", start)
            raise self.unexpected("range", "duration")
        seconds = parse_duration(self.advance().text)
        if self.is_op(":") or (self.tok.kind == "IDENT" and self.tok.text.startswith(":")):
            raise self.error("subqueries are not supported by the drill cluster")
        if seconds <= 0:
            raise self.error("range duration must be greater than zero", start)
        self.expect_op("]", "range")
        return MatrixSelector(node, seconds)

    def parse_offset(self, node: Expr) -> Expr:
        token = self.advance()
        sign = 1.0
        if self.is_op("-") or self.is_op("+"):
            sign = -1.0 if self.advance().text == "-" else 1.0
        if self.tok.kind != "DURATION":
            raise self.unexpected("offset", "duration")
        seconds = sign * parse_duration(self.advance().text)
        if isinstance(node, VectorSelector):
            if node.offset:
                raise self.error("offset may not be set multiple times", token)
            return replace(node, offset=seconds)
        if isinstance(node, MatrixSelector):
            if node.selector.offset:
                raise self.error("offset may not be set multiple times", token)
            return MatrixSelector(replace(node.selector, offset=seconds), node.range)
        raise self.error(
            "offset modifier must be preceded by an instant vector selector or range vector "
            "selector",
            token,
        )

    def parse_primary(self) -> Expr:
        token = self.tok
        if token.kind == "NUMBER":
            self.advance()
            return NumberLiteral(_number(token.text))
        if token.kind == "STRING":
            self.advance()
            return StringLiteral(token.text)
        if token.kind == "DURATION":
            raise self.unexpected()
        if self.is_op("("):
            self.advance()
            inner = self.parse_binary(1)
            if self.tok.kind == "EOF":
                raise self.error("unclosed left parenthesis", token)
            self.expect_op(")", "paren expression")
            return Paren(inner)
        if self.is_op("{"):
            return self.parse_selector(None)
        if token.kind == "IDENT":
            word = token.text
            if word.lower() in ("inf", "nan"):
                self.advance()
                return NumberLiteral(math.inf if word.lower() == "inf" else math.nan)
            following = self.peek()
            opens = following.kind == "OP" and following.text == "("
            groups = following.kind == "IDENT" and following.text.lower() in ("by", "without")
            if word in UNSUPPORTED_AGGREGATORS and (opens or groups):
                raise self.error(
                    f'aggregation "{word}" is not supported by the drill cluster '
                    f"(supported: {', '.join(sorted(AGGREGATORS))})"
                )
            if word in AGGREGATORS and (opens or groups):
                return self.parse_aggregate()
            if opens:
                return self.parse_call()
            if word.lower() in ("by", "without", "on", "ignoring", "bool", "offset",
                                "group_left", "group_right") or word.lower() in SET_OPS:
                raise self.unexpected()
            self.advance()
            return self.parse_selector(word)
        if token.kind == "EOF":
            raise self.error("unexpected end of input")
        raise self.unexpected()

    def parse_label_list(self, context: str) -> tuple[str, ...]:
        self.expect_op("(", context)
        labels: list[str] = []
        while not self.is_op(")"):
            if self.tok.kind != "IDENT":
                raise self.unexpected(context, "label")
            labels.append(self.advance().text)
            if self.is_op(","):
                self.advance()
            elif not self.is_op(")"):
                raise self.unexpected(context, '"," or ")"')
        self.advance()
        return tuple(labels)

    def parse_aggregate(self) -> Aggregate:
        op = self.advance().text
        grouping: tuple[str, ...] = ()
        without = False
        seen_grouping = False
        if self.is_word("by", "without"):
            without = self.advance().text.lower() == "without"
            grouping = self.parse_label_list("grouping opts")
            seen_grouping = True
        start = self.expect_op("(", "aggregation")
        if self.is_op(")"):
            raise self.error("no arguments for aggregate expression provided", start)
        inner = self.parse_binary(1)
        if self.is_op(","):
            raise self.error(f"aggregation {op} takes no parameter")
        if self.tok.kind == "EOF":
            raise self.error("unclosed left parenthesis", start)
        self.expect_op(")", "aggregation")
        if self.is_word("by", "without"):
            if seen_grouping:
                raise self.unexpected("aggregation")
            without = self.advance().text.lower() == "without"
            grouping = self.parse_label_list("grouping opts")
        kind = expr_type(inner)
        if kind != VECTOR:
            raise self.error(
                f"expected type instant vector in aggregation expression, got {kind}", start
            )
        return Aggregate(op, inner, grouping, without)

    def parse_call(self) -> Call:
        token = self.advance()
        name = token.text
        if name not in FUNCTIONS:
            raise self.error(f'unknown function with name "{name}"', token)
        start = self.expect_op("(", "function call")
        args: list[Expr] = []
        while not self.is_op(")"):
            if self.tok.kind == "EOF":
                raise self.error("unclosed left parenthesis", start)
            args.append(self.parse_binary(1))
            if self.is_op(","):
                self.advance()
            elif not self.is_op(")"):
                if self.tok.kind == "EOF":
                    raise self.error("unclosed left parenthesis", start)
                raise self.unexpected("call", '"," or ")"')
        self.advance()
        expected, _ = FUNCTIONS[name]
        if len(args) != len(expected):
            raise self.error(
                f'expected {len(expected)} argument(s) in call to "{name}", got {len(args)}',
                token,
            )
        for arg, want in zip(args, expected, strict=True):
            got = expr_type(arg)
            if got != want:
                raise self.error(
                    f'expected type {want} in call to function "{name}", got {got}', token
                )
        return Call(name, tuple(args))

    def parse_selector(self, name: str | None) -> VectorSelector:
        matchers: list[Matcher] = []
        start = self.tok
        if self.is_op("{"):
            self.advance()
            while not self.is_op("}"):
                matchers.append(self.parse_matcher())
                if self.is_op(","):
                    self.advance()
                elif not self.is_op("}"):
                    if self.tok.kind == "EOF":
                        raise self.error("unexpected end of input inside braces", start)
                    raise self.unexpected("label matching", '"," or "}"')
            self.advance()
        for matcher in matchers:
            if matcher.name == "__name__" and name is not None:
                raise self.error(f"metric name must not be set twice: {name!r} or "
                                 f"{matcher.value!r}", start)
        if name is None:
            names = [m.value for m in matchers if m.name == "__name__" and m.op == "="]
            name = names[0] if names else None
            matchers = [m for m in matchers if not (m.name == "__name__" and m.op == "=")]
        if name is None and all(m.matches("") for m in matchers):
            raise self.error(
                "vector selector must contain at least one non-empty matcher", start
            )
        return VectorSelector(name, tuple(matchers))

    def parse_matcher(self) -> Matcher:
        if self.tok.kind != "IDENT":
            raise self.unexpected("label matching", "label name")
        label = self.advance().text
        if not (self.tok.kind == "OP" and self.tok.text in ("=", "!=", "=~", "!~")):
            raise self.unexpected("label matching", "label matching operator")
        op = self.advance().text
        if self.tok.kind != "STRING":
            raise self.unexpected("label matching", "string")
        value_token = self.advance()
        pattern = None
        if op in ("=~", "!~"):
            try:
                pattern = re.compile(value_token.text)
            except re.error as exc:
                raise self.error(f"error parsing regexp: {exc}", value_token) from None
        return Matcher(label, op, value_token.text, pattern)


def _number(text: str) -> float:
    if text.lower().startswith("0x"):
        return float(int(text, 16))
    return float(text)
