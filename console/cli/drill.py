"""`warroom drill inject FAULT [k=v ...]` (alias `warroom drill-inject`) and `--fault` parsing.

Inject switches a fault on in a running drill cluster through its admin endpoint, using the
drill kubeconfig (server URL, CA, admin token). Exit codes: 0 done; 1 the cluster is not
answering or refused; 2 usage (unknown fault, bad parameter).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

# the fault specs alone (no drill server, no aiohttp): the parser and --help need only these
from drill.fault_specs import FAULT_NAMES, FAULTS, parse_params, parse_spec

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def faults_help() -> str:
    lines = ["faults (parameters as k=v; every lasting fault also takes duration=SECONDS):"]
    for spec in FAULTS.values():
        params = [f"{k}={_default(p.default)}" for k, p in spec.params.items() if k != "duration"]
        lines.append(f"  {spec.name:<13} {spec.summary}")
        if params:
            lines.append(f"  {'':<13}   {' '.join(params)}")
    lines.append(f"  {'clear':<13} switch faults off: all, or name=FAULT")
    lines.append(f"  {'status':<13} list active faults and counters (changes nothing)")
    return "\n".join(lines)


def _default(value: Any) -> str:
    if value is None:
        return "…"
    if isinstance(value, tuple):
        return "/".join(map(str, value))
    return str(value).lower() if isinstance(value, bool) else str(value)


def fault_spec(text: str) -> tuple[str, dict[str, str]]:
    """argparse type for `--fault NAME[:k=v,...]`: syntax, fault name and parameters checked."""
    try:
        name, raw = parse_spec(text)
        if name == "clear":
            raise ValueError("`clear` makes no sense at start")
        parse_params(name, raw)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return name, raw


def add_inject_parser(subparsers: Any, name: str, default_kubeconfig: str,
                      help_text: str | None) -> argparse.ArgumentParser:
    kwargs: dict[str, Any] = {} if help_text is None else {"help": help_text}
    parser = subparsers.add_parser(
        name, **kwargs,
        description="Switch a fault on (or off) in a running drill cluster, through its admin "
                    "endpoint. Faults last real seconds; the cluster clears them by itself "
                    "after duration=SECONDS, or on `clear`.",
        epilog=faults_help() + "\n\nexamples:\n"
               "  warroom drill inject latency seconds=2 jitter=0.5 duration=60\n"
               "  warroom drill inject errors share=0.3 code=500/503/429\n"
               "  warroom drill inject api-down seconds=15\n"
               "  warroom drill inject clear",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("fault", metavar="FAULT", choices=[*FAULT_NAMES, "status"],
                        help="one of: " + ", ".join([*FAULT_NAMES, "status"]))
    parser.add_argument("params", nargs="*", metavar="k=v", help="fault parameters")
    parser.add_argument("--kubeconfig", dest="drill_kubeconfig", metavar="PATH",
                        default=None,
                        help=f"kubeconfig of the drill cluster (default: {default_kubeconfig}, "
                             "written by `warroom drill`; for `warroom drill-server` pass its "
                             "--kubeconfig-out)")
    parser.set_defaults(inject=True)
    return parser


def run_inject(args: argparse.Namespace, default_kubeconfig: Path) -> int:
    params: dict[str, str] = {}
    for item in args.params:
        key, sep, value = item.partition("=")
        if not sep or not key:
            print(f"warroom: expected k=v, got {item!r}", file=sys.stderr)
            return EXIT_USAGE
        params[key] = value
    fault = args.fault
    try:
        if fault not in ("clear", "status"):
            parse_params(fault, params)  # say what is wrong before touching the cluster
        elif fault == "status" and params:
            raise ValueError("status takes no parameters")
        elif fault == "clear" and set(params) - {"name"}:
            raise ValueError("clear takes only name=FAULT")
    except ValueError as exc:
        print(f"warroom: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from adapters.drill_admin import DrillAdmin, DrillAdminError, DrillUnreachable

    path = Path(args.drill_kubeconfig) if args.drill_kubeconfig else default_kubeconfig
    try:
        with DrillAdmin.from_kubeconfig(path) as admin:
            url = admin.endpoint.url
            answer = admin.faults() if fault == "status" else admin.inject(fault, params)
    except DrillUnreachable as exc:
        print(f"warroom: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except DrillAdminError as exc:
        print(f"warroom: {exc}", file=sys.stderr)
        return EXIT_USAGE if " answered 400" in str(exc) else EXIT_FAILED
    print(describe_answer(fault, answer, url))
    return EXIT_OK


def describe_answer(fault: str, answer: dict[str, Any], url: str) -> str:
    lines: list[str] = []
    applied = answer.get("applied") or {}
    if fault == "clear":
        cleared = applied.get("cleared") or []
        lines.append(f"cleared on {url}: {', '.join(cleared)}" if cleared
                     else f"no faults were active on {url}")
    elif fault != "status":
        lines.append(f"injected {fault} on {url}: {_params(applied.get('params') or {})}")
        if "dropped" in applied:
            lines.append(f"  dropped {applied['dropped']} open watch(es)")
    active = answer.get("active") or []
    if active:
        lines.append("active faults:")
        for state in active:
            left = state.get("expiresInSeconds")
            when = "until cleared" if left is None else f"{left:g}s left"
            extra = f", {state['remaining']} to go" if "remaining" in state else ""
            lines.append(f"  {state['fault']:<13} {_params(state.get('params') or {})}"
                         f" ({when}, {state.get('hits', 0)} hit(s){extra})")
    else:
        lines.append("no faults active")
    if fault == "status":
        counters = answer.get("counters") or {}
        if counters:
            lines.append("injected so far: " + ", ".join(f"{k}={v}" for k, v in counters.items()))
    return "\n".join(lines)


def _params(params: dict[str, Any]) -> str:
    if not params:
        return "(no parameters)"
    return " ".join(f"{k}={'/'.join(map(str, v)) if isinstance(v, list) else v}"
                    for k, v in params.items())
