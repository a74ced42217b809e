"""Build the console's ``ConsoleSettings`` from flags, environment, config file and defaults."""

from __future__ import annotations

import difflib
import os
from collections.abc import Collection, Mapping
from typing import Any

from adapters.errors import AdapterError
from adapters.kubeconfig_files import current_context_name
from console.config.build import settings_fields, where
from console.config.errors import ConfigError, ConfigProblem
from console.config.load import find_config
from console.config.sources import Resolved, resolve
from console.domain.settings import ConsoleSettings


def current_context(kubeconfig: str | None) -> str | None:
    """The kubeconfig's current context (whose ``[context."NAME"]`` table applies)."""
    try:  # the files alone, without the Kubernetes client (the first frame waits for this)
        return current_context_name(kubeconfig)
    except (AdapterError, Exception):  # noqa: BLE001 - connecting says what is wrong with it
        return None


def resolve_all(flags: Mapping[str, Any], *, config_flag: str | None = None,
                context: str | None = None, kubeconfig: str | None = None,
                env: Mapping[str, str] | None = None) -> Resolved:
    """Every setting with its source; ``context`` picks the table (default: the kubeconfig's
    current context; the first of a comma-separated list). Raises ``ConfigError``."""
    env = os.environ if env is None else env
    config = find_config(config_flag, env)
    chosen = (context or "").split(",")[0].strip() or current_context(kubeconfig)
    return resolve(flags, env=env, config=config, context=chosen)


def console_settings(flags: Mapping[str, Any], *, config_flag: str | None = None,
                     env: Mapping[str, str] | None = None,
                     themes: Collection[str] | None = None,
                     **fixed: Any) -> ConsoleSettings:
    """``ConsoleSettings`` from every source; ``fixed`` (kubeconfig, context, and what a drill
    sets up) is taken as given; ``themes``: the theme names there are. Raises ``ConfigError``."""
    resolved = resolve_all(flags, config_flag=config_flag, context=fixed.get("context"),
                           kubeconfig=fixed.get("kubeconfig"), env=env)
    check_theme(resolved, themes)
    values = settings_fields(resolved)
    given = fixed.pop("runbook_values", None) or {}
    values.update(fixed)
    values["runbook_values"] = {**given, **values["runbook_values"]}
    return ConsoleSettings(**values)


def check_theme(resolved: Resolved, themes: Collection[str] | None) -> None:
    theme = resolved.values["theme"]
    if themes is not None and theme.value not in themes:
        close = difflib.get_close_matches(str(theme.value), list(themes), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        ours = ", ".join(sorted(t for t in themes if t.startswith("warroom-")))
        raise ConfigError([ConfigProblem(where(theme, resolved), (
            f"theme: no theme {theme.value!r}{hint}; warroom's are {ours} (Textual's own "
            "work too, e.g. nord)"))])


__all__ = ["check_theme", "console_settings", "current_context", "resolve_all"]
