"""`warroom config init|check|show`, and the console's flags as config settings.

Errors go to stderr with exit status 2 and no traceback; `check` prints every problem with
its line.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from console.config.errors import ConfigError


def runbook_value(text: str) -> tuple[str, str]:
    """``--set KEY=VALUE``: a runbook variable's value."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
        raise argparse.ArgumentTypeError(
            f"expected KEY=VALUE with KEY a variable name (letters, digits, _), not {text!r}")
    if any(c in value for c in "\r\n\0"):
        raise argparse.ArgumentTypeError(f"the value of {key} must be one line")
    return key, value


def add_config_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE",
                        help="config file (default: $WARROOM_CONFIG, else "
                             "$XDG_CONFIG_HOME/warroom/config.toml); see `warroom config`")
    parser.add_argument("--set", action="append", type=runbook_value, default=[],
                        metavar="KEY=VALUE", dest="set_values",
                        help="a runbook variable's value (repeatable), e.g. --set database=app")


def config_flags(args: argparse.Namespace) -> dict[str, Any]:
    """The settings given on the command line (None: not given)."""
    flags: dict[str, Any] = {
        "namespace": getattr(args, "namespace", None),
        "read_only": getattr(args, "read_only", None),
        "two_person": getattr(args, "two_person", None),
        "production": getattr(args, "production", None),
        "max_replicas": getattr(args, "max_replicas", None),
        "theme": getattr(args, "theme", None),
        "runbook": getattr(args, "runbook", None),
        "metrics.base_url": getattr(args, "prometheus", None),
    }
    for key, value in getattr(args, "set_values", None) or []:
        flags[f"runbook_values.{key}"] = value
    return flags


def theme_names() -> set[str]:
    """Every theme the console can show: warroom's and Textual's own."""
    from textual.theme import BUILTIN_THEMES

    from themes import THEMES

    return set(THEMES) | set(BUILTIN_THEMES)


def add_config_command(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    config = sub.add_parser(
        "config", help="the config file: init, check, show",
        description="The config file ($XDG_CONFIG_HOME/warroom/config.toml, or --config FILE, "
                    "or $WARROOM_CONFIG): Prometheus, checks, production contexts, ...")
    actions = config.add_subparsers(dest="config_command", metavar="init|check|show",
                                    required=True)
    actions.add_parser("init", help="write a commented starter file for your kubeconfig's "
                                    "contexts (never replaces an existing file)")
    check = actions.add_parser("check", help="check a config file (exit 0 ok, 2 problems)")
    check.add_argument("file", nargs="?", help="the file (default: the one warroom reads)")
    actions.add_parser("show", help="every setting's effective value and where it came from "
                                    "(default, file:LINE, flag, env:NAME)")


def run_config_command(args: argparse.Namespace) -> int:
    try:
        if args.config_command == "init":
            return _init(args)
        if args.config_command == "check":
            return _check(args)
        return _show(args)
    except ConfigError as error:
        print(error.message, file=sys.stderr)
        return 2


def _init(args: argparse.Namespace) -> int:
    from adapters.errors import AdapterError
    from adapters.kube_config import list_contexts
    from console.config.load import config_path
    from console.config.starter import write_starter

    path, _how = config_path(args.config)
    try:
        contexts = list_contexts(args.kubeconfig)
    except (AdapterError, OSError, ValueError) as error:
        print(f"warroom: cannot read the kubeconfig ({getattr(error, 'message', error)}); "
              "writing a starter without contexts", file=sys.stderr)
        contexts = []
    try:
        write_starter(path, contexts)
    except FileExistsError:
        print(f"warroom: {path} already exists; not overwritten "
              "(`warroom config check` checks it)", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"warroom: cannot write {path}: {error.strerror or error}", file=sys.stderr)
        return 1
    print(path)
    return 0


def _check(args: argparse.Namespace) -> int:
    from console.config.build import settings_fields
    from console.config.console_settings import check_theme
    from console.config.load import find_config, read_config
    from console.config.sources import resolve

    config = read_config(Path(args.file).expanduser()) if args.file else find_config(args.config)
    if config is None:
        print("warroom: no config file (`warroom config init` writes one)", file=sys.stderr)
        return 0
    contexts = [None, *config.model.context]
    for name in contexts:  # every context's table, merged as the console would
        resolved = resolve({}, env={}, config=config, context=name)
        check_theme(resolved, theme_names())
        settings_fields(resolved)
    print(f"{config.path}: ok ({len(config.model.context)} context table(s))")
    return 0


def _show(args: argparse.Namespace) -> int:
    from console.config.build import settings_fields
    from console.config.console_settings import check_theme, resolve_all
    from console.config.show import show_lines

    resolved = resolve_all(config_flags(args), config_flag=args.config, context=args.context,
                           kubeconfig=args.kubeconfig)
    check_theme(resolved, theme_names())  # what the console would refuse, refused here too
    settings_fields(resolved)
    print("\n".join(show_lines(resolved)))
    return 0


__all__ = ["add_config_command", "add_config_options", "config_flags", "run_config_command",
           "theme_names"]
