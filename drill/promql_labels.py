"""`label_replace` for the drill's PromQL evaluator, as Prometheus does it.

`label_replace(v, dst, replacement, src, regex)`: for each series whose `src` value matches
the fully anchored `regex`, `dst` becomes `replacement` with `$1`, `${1}`, `$name` expanded
(Go's `Regexp.Expand`: `$1x` names group "1x", which does not exist, so it expands to "");
an empty result removes `dst`. Series that do not match are left as they are.
"""

from __future__ import annotations

import re

from .promql_parser import PromQLError

_LABEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_REFERENCE = re.compile(r"\$(?:\$|\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))")

Metric = dict[str, str]


def compile_regex(regex: str) -> re.Pattern[str]:
    try:
        return re.compile(f"(?:{regex})")
    except re.error as exc:
        raise PromQLError(f'invalid regular expression in label_replace(): "{regex}": {exc}',
                          "execution") from None


def expand(match: re.Match[str], template: str) -> str:
    def one(ref: re.Match[str]) -> str:
        name = ref.group(1) or ref.group(2)
        if name is None:
            return "$"
        try:
            group = match.group(int(name)) if name.isdigit() else match.group(name)
        except IndexError:  # no such group
            return ""
        return group or ""

    return _REFERENCE.sub(one, template)



def label_replace(metrics: list[Metric], dst: str, replacement: str, src: str,
                  regex: str) -> list[Metric]:
    """The label sets after `label_replace`, in the same order."""
    if not _LABEL_NAME.fullmatch(dst):
        raise PromQLError(f'invalid destination label name in label_replace(): "{dst}"',
                          "execution")
    pattern = compile_regex(regex)
    out = []
    for metric in metrics:
        match = pattern.fullmatch(metric.get(src, ""))
        if match is None:
            out.append(metric)
            continue
        value = expand(match, replacement)
        changed = dict(metric)
        if value:
            changed[dst] = value
        else:
            changed.pop(dst, None)
        out.append(changed)
    return out
