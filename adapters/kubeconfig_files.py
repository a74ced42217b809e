"""Which kubeconfig files kubectl would read, and their current context, without the
Kubernetes client: the console's settings pick their config table by the current context
before the first frame (console/config/console_settings.py); connecting reads the files in
full (adapters/kube_config.py)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from .errors import AdapterError

KubeconfigArg = str | os.PathLike[str] | Sequence[str] | None


def kubeconfig_paths(kubeconfig: KubeconfigArg) -> list[str]:
    """The kubeconfig files kubectl would read, in precedence order (may be empty)."""
    if kubeconfig:
        explicit = [str(kubeconfig)] if isinstance(kubeconfig, (str, os.PathLike)) else [
            str(p) for p in kubeconfig]
        for path in explicit:
            if not Path(path).expanduser().is_file():
                raise AdapterError(f"The kubeconfig file {path} does not exist; check "
                                   "--kubeconfig.")
        return [str(Path(p).expanduser()) for p in explicit]
    env = os.environ.get("KUBECONFIG", "")
    if env:
        listed = [p for p in env.split(os.pathsep) if p]
        # kubectl skips missing files in $KUBECONFIG
        return [str(Path(p).expanduser()) for p in listed if Path(p).expanduser().is_file()]
    default = Path("~/.kube/config").expanduser()
    return [str(default)] if default.is_file() else []


def current_context_name(kubeconfig: KubeconfigArg) -> str | None:
    """The merged kubeconfig's current context, as kubectl picks it (the first file that
    names one), when it is one of the files' contexts; None when there is none. Raises
    ``AdapterError`` for a file that is missing or unreadable, and YAML errors as they come."""
    import yaml  # only here: ~10 ms of start-up for a console that has no use for it

    current: str | None = None
    names: set[str] = set()
    for path in kubeconfig_paths(kubeconfig):
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise AdapterError(f"Cannot read kubeconfig {path}: {exc.strerror or exc}.") from exc
        if not isinstance(data, dict):
            continue
        if current is None and data.get("current-context"):
            current = str(data["current-context"])
        names.update(str(entry.get("name", "")) for entry in data.get("contexts") or []
                     if isinstance(entry, dict))
    return current if current in names else None
