"""`warroom` command line: the console, the drill cluster, and offline tools."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adapters.errors import Invalid
from adapters.metric_presets import PRESETS, check_preset
from console.cli.audit import add_audit_commands, run_audit_command
from console.cli.config import (
    add_config_command,
    add_config_options,
    config_flags,
    run_config_command,
    theme_names,
)
from console.cli.contexts import context_list, unknown_contexts
from console.cli.doctor import add_doctor_command, run_doctor
from console.cli.drill import add_inject_parser, fault_spec, run_inject
from console.cli.incident_start import add_incident_options, ask, check_resume
from console.cli.incidents import add_incidents_commands, run_incidents_command
from console.cli.replay import add_replay_command, run_replay_command
from console.cli.runbooks import add_runbook_commands, run_runbooks_command
from console.config.errors import ConfigError
from console.domain.state_checks import check_state_dir
from console.domain.statefiles import STATE_DIR_ENV, default_state_dir, ensure_private_dir

if TYPE_CHECKING:
    from console.domain.settings import ConsoleSettings

DESCRIPTION = """\
warroom — a terminal war-room console for Kubernetes rollback and recovery.

Without a subcommand it opens the console on your current kubeconfig context.
`warroom drill` starts an embedded drill cluster that plays a failure scenario
from the rollback handbook and opens the console on it; `warroom drill inject FAULT`
switches faults (latency, errors, api-down, ...) on and off in a running drill cluster."""
DRILL_KUBECONFIG = "drill-kubeconfig.yaml"


def state_dir() -> Path:
    """The state directory (audit logs, incidents, the drill's kubeconfig), created if need
    be; one that cannot be used ends the command with a message saying which and why."""
    path = default_state_dir()
    unsafe = check_state_dir(path)  # before creating anything in it
    if unsafe:
        raise SystemExit(f"warroom: refusing the state directory: {unsafe}. "
                         "`warroom doctor` checks the whole set-up.")
    try:
        return ensure_private_dir(path)
    except OSError as exc:
        raise SystemExit(f"warroom: cannot use the state directory {path}: "
                         f"{exc.strerror or exc}. Set {STATE_DIR_ENV} to a directory you "
                         "can write to.") from exc


def drill_kubeconfig_path() -> Path:
    """Where `warroom drill` writes the drill cluster's kubeconfig (and inject reads it)."""
    return state_dir() / DRILL_KUBECONFIG


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return value


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"not a TCP port: {text!r}")
    return int(text)


def _scenario_names() -> list[str]:
    """Every registered drill scenario (drill/scenarios registers them on import)."""
    from drill.scenarios import scenario_names

    return sorted(scenario_names())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="warroom", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    parser.add_argument("--context", metavar="NAME[,NAME...]",
                        help="kubeconfig context to use (default: current context); a comma "
                             "list opens one console on several (c switches between them)")
    parser.add_argument("-n", "--namespace", help="namespace to watch (default: the context's)")
    parser.add_argument("-l", "--selector", metavar="LABELS",
                        help="watch only the pods, deployments and replicasets with these labels, "
                             "written as for kubectl -l (e.g. app=api or 'tier in (web,api)')")
    _console_options(parser)
    parser.add_argument("--prometheus", metavar="URL",
                        help="Prometheus base URL for error rates and latency (default: the "
                             "config file's [metrics]; the drill cluster serves its own)")
    add_config_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    drill = sub.add_parser(
        "drill", help="run the console on an embedded drill cluster",
        description="Start an embedded, Kubernetes-API-compatible drill cluster playing a\n"
                    "failure scenario, and open the console on it.\n\n"
                    "`warroom drill inject FAULT [k=v ...]` (also `warroom drill-inject`)\n"
                    "instead switches a fault on in a drill cluster that is already running;\n"
                    "see `warroom drill inject --help`.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    _drill_options(drill)
    drill.add_argument("--preset", type=_preset, default="generic", metavar="NAME",
                       help="read the drill's metrics as this monitoring stack exports them: "
                            + ", ".join(PRESETS) + " (default: generic); the drill emits every "
                            "stack's series, so each shows the same incident")
    default_kubeconfig = str(default_state_dir() / DRILL_KUBECONFIG)
    drill_sub = drill.add_subparsers(dest="drill_command", metavar="[inject]")
    add_inject_parser(drill_sub, "inject", default_kubeconfig,
                      "switch a fault on/off in a running drill cluster")

    server = sub.add_parser(
        "drill-server", help="run only the drill cluster (for kubectl and other clients)",
        description="Run the drill cluster in the foreground and write a kubeconfig for it. "
                    "Use it with kubectl: KUBECONFIG=PATH kubectl get pods -n shop")
    _drill_options(server)
    server.add_argument("--port", type=_port, default=0, help="TCP port on 127.0.0.1 (default: a free one)")
    server.add_argument("--kubeconfig-out", required=True, metavar="PATH",
                        help="where to write the kubeconfig (mode 0600)")
    server.add_argument("--exec-plugin", action="store_true",
                        help="the kubeconfig gets its token from a small exec credential plugin "
                             "(like aws eks get-token); it fails while PATH.exec/fail exists")
    server.add_argument("--exec-ttl", type=_positive_float, default=120.0, metavar="SECONDS",
                        help="how long the plugin's tokens live (default 120)")
    server.add_argument("--anonymous-auth", action=argparse.BooleanOptionalAction, default=False,
                        help="requests without credentials are system:anonymous (403) as on a "
                             "kube-apiserver with anonymous auth on (default: off, 401)")
    server.add_argument("--clock-skew", type=float, default=0.0, metavar="SECONDS",
                        help="run the cluster's clock (timestamps, Date headers) this far ahead "
                             "of this machine's; negative: behind")
    server.add_argument("--fault", action="append", type=fault_spec, default=[],
                        metavar="NAME[:k=v,...]",
                        help="inject a fault at start (repeatable), e.g. latency:seconds=0.5 or "
                             "errors:share=0.2,code=500/503; see `warroom drill inject --help`")
    add_inject_parser(sub, "drill-inject", default_kubeconfig,
                      "same as `warroom drill inject`")
    add_audit_commands(sub)
    add_incidents_commands(sub)  # warroom incidents list | show | export
    add_runbook_commands(sub)
    add_replay_command(sub)  # warroom replay AUDIT.jsonl
    add_doctor_command(sub)
    add_config_command(sub)
    return parser


def _console_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--read-only", action=argparse.BooleanOptionalAction, default=None,
                        help="watch only: disable scale, restart, undo and delete")
    parser.add_argument("--theme", default=None,
                        help="colour theme: warroom-dark, warroom-light, warroom-high-contrast, "
                             "warroom-colorblind (t switches at run time)")
    parser.add_argument("--runbook", metavar="ID",
                        help="runbook to follow (see `warroom runbooks list`)")
    parser.add_argument("--resume", nargs="?", const="latest", metavar="INCIDENT",
                        help="come back to an open incident (default: the latest)")
    add_incident_options(parser)
    parser.add_argument("--max-replicas", type=_replicas, default=None, metavar="N",
                        help="upper bound accepted by the scale dialog (default 50)")
    parser.add_argument("--two-person", action=argparse.BooleanOptionalAction, default=None,
                        help="two-person rule: an action confirmed here runs only after "
                             "someone else approves it (A) from another console on the "
                             "same incident (--resume)")
    parser.add_argument("--production", action=argparse.BooleanOptionalAction, default=None,
                        help="treat the context as production (typed confirmations); default: "
                             "by its name (prod, production, prd)")


def _preset(text: str) -> str:
    """argparse type for `--preset`: a metric preset, or a "did you mean"."""
    try:
        return check_preset(text)
    except Invalid as exc:
        raise argparse.ArgumentTypeError(exc.message.removeprefix("metrics config: ")) from None


def _replicas(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"not a positive whole number: {text!r}")
    return int(text)


class _ScenarioNames:
    """The scenario list in `--scenario`'s help, read only when the help is printed: the
    registry imports every scenario and the drill's object model (150 ms at each start)."""

    def __str__(self) -> str:
        return ", ".join(_scenario_names())


def _drill_options(parser: argparse.ArgumentParser) -> None:
    scenario = parser.add_argument("--scenario", default=None, metavar="NAME")
    # set after add_argument, which may check the help's %-fields against the action's own
    scenario.help = ("failure scenario to play: %(scenarios)s (`warroom drill` without it: "
                     "choose in a picker; drill-server: none)")
    scenario.scenarios = _ScenarioNames()  # type: ignore[attr-defined]
    parser.add_argument("--speed", type=_positive_float, default=None, metavar="X",
                        help="drill clock speed (1 = real time, 60 = a minute per second; "
                             "default: the scenario's)")
    parser.add_argument("--seed", type=int, default=7, help="random seed for names and jitter")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # `drill inject FAULT --kubeconfig P k=v`: k=v after an option land here
        if getattr(args, "inject", False) and all("=" in e and not e.startswith("-") for e in extra):
            args.params += extra
        else:
            parser.error("unrecognized arguments: " + " ".join(extra))
    if getattr(args, "scenario", None) and args.scenario not in _scenario_names():
        parser.error(f"unknown scenario {args.scenario!r}; choose one of: "
                     + ", ".join(_scenario_names()))
    if (why := check_resume(args)) is not None:
        parser.error(why)
    if args.command == "incidents":
        return run_incidents_command(args)
    if args.command == "runbooks":
        return run_runbooks_command(args)
    if args.command == "audit":
        return run_audit_command(args)
    if args.command == "replay":
        return run_replay_command(args)
    if args.command == "doctor":
        return run_doctor(args)
    if args.command == "config":
        return run_config_command(args)
    if args.command == "drill-server":
        return run_drill_server(args)
    if getattr(args, "inject", False):
        return run_inject(args, drill_kubeconfig_path())
    state_dir()  # the audit log lives there: say now if it cannot, before anything starts
    try:
        if args.command == "drill":
            return run_drill_console(args)
        return run_console(args)
    except ConfigError as error:  # before the console starts: nothing recorded yet
        print(f"warroom: the configuration cannot be used:\n{error.message}", file=sys.stderr)
        return 2


def run_drill_server(args: argparse.Namespace) -> int:
    import asyncio
    import contextlib
    import signal

    from drill.cluster import DrillCluster

    async def serve() -> None:
        try:
            cluster = DrillCluster(scenario=args.scenario or "none", speed=args.speed,
                                   seed=args.seed, port=args.port,
                                   anonymous_auth=args.anonymous_auth,
                                   clock_skew=args.clock_skew)
        except RuntimeError as exc:  # e.g. no PostgreSQL for a database scenario
            print(f"warroom: cannot start the drill cluster: {exc}", file=sys.stderr)
            raise SystemExit(1) from exc
        try:
            await cluster.start()
        except OSError as exc:
            print(f"warroom: cannot listen on 127.0.0.1:{args.port}: {exc.strerror}",
                  file=sys.stderr)
            raise SystemExit(1) from exc
        for name, params in args.fault:
            cluster.faults.inject(name, params)
        path = cluster.write_kubeconfig(args.kubeconfig_out, exec_plugin=args.exec_plugin,
                                        exec_ttl=args.exec_ttl)
        print(f"drill cluster listening on {cluster.url} (scenario {cluster.scenario.name}, "
              f"speed {cluster.clock.speed:g}x)\nkubeconfig written to {path}\n"
              f"try: KUBECONFIG={path} kubectl get pods -n shop", file=sys.stderr, flush=True)
        if args.fault:
            print("faults: " + ", ".join(f["fault"] for f in cluster.faults.describe()["active"]),
                  file=sys.stderr, flush=True)
        database = getattr(cluster.scenario, "database", None)
        if database is not None:
            print(f"database: {database.dsn} (password in {database.pg.password_file}; "
                  f"psql: {' '.join(f'{k}={v}' for k, v in drill_libpq_env(cluster).items())} "
                  f"psql {database.name})", file=sys.stderr, flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await cluster.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
    return 0


def _settings(args: argparse.Namespace, **overrides: object) -> ConsoleSettings:
    """Settings from flags, environment, the config file and defaults (console/config);
    ``overrides`` (what a drill sets up) are taken as given. Raises ``ConfigError``."""
    from console.config.console_settings import console_settings

    fixed: dict[str, object] = {
        "kubeconfig": getattr(args, "kubeconfig", None),
        "context": getattr(args, "context", None),
        "selector": getattr(args, "selector", None),
        "resume": getattr(args, "resume", None),
    }
    fixed.update(overrides)
    return console_settings(config_flags(args), config_flag=getattr(args, "config", None),
                            themes=theme_names(), **fixed)


def run_drill_console(args: argparse.Namespace) -> int:
    from adapters.metrics_config import MetricsConfig
    from console.config.console_settings import resolve_all
    from drill.cluster import DrillThread

    # the config file checked (and the theme known) before anything starts
    theme = resolve_all(config_flags(args), config_flag=args.config,
                        context="drill").value("theme")
    if args.scenario is None:  # the picker, before anything starts (console/ui/scenario_pick.py)
        from console.ui.scenario_pick import pick_scenario

        args.scenario = pick_scenario(theme)
        if args.scenario is None:
            return 0
    runner = DrillThread(scenario=args.scenario, speed=args.speed, seed=args.seed)
    try:
        cluster = runner.start()
    except Exception as exc:  # noqa: BLE001 - e.g. no PostgreSQL for a database scenario
        print(f"warroom: cannot start the drill cluster: {exc}", file=sys.stderr)
        return 1
    try:
        kubeconfig = cluster.write_kubeconfig(state_dir() / "drill-kubeconfig.yaml")
        os.environ.update(drill_libpq_env(cluster))
        scenario = cluster.scenario
        rehearsal = scenario.rehearsal  # what to watch and check (a free-play drill: shop/api)
        target_ns, target = rehearsal.namespace, rehearsal.deployment
        settings = _settings(
            args, kubeconfig=str(kubeconfig), context="drill", namespace=target_ns,
            metrics=MetricsConfig(base_url=cluster.url + "/prometheus",
                                  bearer_token=cluster.token, verify_tls=str(cluster.ca_path),
                                  preset=args.preset),
            cluster_clock=cluster.clock.now, drill=cluster,
            runbook=args.runbook or getattr(scenario, "runbook", None) or None,
            checks=_drill_checks(cluster, target_ns, target, rehearsal.check_paths),
            **drill_database(cluster, {"deployment": target}),
            probe_ca=str(cluster.ca_path),
            incident_title=args.title or (f"drill: {scenario.title}" if scenario.name != "none"
                                          else "drill: free play"),
            title=f"drill: {scenario.name} · speed {cluster.clock.speed:g}x")
        from console.ui.app import run_app

        return run_app(settings)
    finally:
        runner.stop()


def drill_database(cluster: Any, values: dict[str, str]) -> dict[str, Any]:
    """Settings for a drill that plays on a real database: its DSN and password file and the
    runbook values only the drill knows (`drill_libpq_env`: what its shell steps need)."""
    scenario = cluster.scenario
    database = getattr(scenario, "database", None)
    runbook_values = {**values, **scenario.runbook_values()}
    if database is None:
        return {"runbook_values": runbook_values}
    return {"runbook_values": runbook_values, "database_dsn": database.dsn,
            "database_password_file": str(database.pg.password_file)}


def drill_libpq_env(cluster: Any) -> dict[str, str]:
    """libpq's variables (PGHOST, PGPORT, PGUSER, PGPASSFILE) for the drill's database, so
    the runbook's psql/pg_dump shell steps reach it as an operator's shell would."""
    database = getattr(cluster.scenario, "database", None)
    return database.pg.libpq_env() if database is not None else {}


def _drill_checks(cluster: object, namespace: str, deployment: str,
                  paths: Sequence[str] | None = None) -> tuple[object, ...]:
    """Verification checks against the drill's simulated service (`v` in the console): the
    routes the scenario names (`Rehearsal.check_paths`, by default the cluster's scenario's)."""
    from adapters.probes import Check

    if paths is None:
        paths = cluster.scenario.rehearsal.check_paths  # type: ignore[attr-defined]

    base = f"{cluster.url}/drill/v1/svc/{namespace}/{deployment}"  # type: ignore[attr-defined]
    headers = {"Authorization": f"Bearer {cluster.token}"}  # type: ignore[attr-defined]
    return tuple(Check(name=f"{deployment} {path}", url=base + path, expect_status=200,
                       body_contains='"ok"', retries=1, retry_delay_s=0.5, headers=headers)
                 for path in paths)


def run_console(args: argparse.Namespace) -> int:
    from console.ui.app import run_app

    title, severity = ask(args)  # two questions on a terminal when neither option is given
    contexts = context_list(args.context)
    if contexts:  # --context a,b: one console on several
        problem = unknown_contexts(args.kubeconfig, contexts)
        if problem:
            print(f"warroom: {problem}", file=sys.stderr)
            return 2
        return run_app(_settings(args, context=contexts[0], contexts=contexts,
                                 incident_title=title, severity=severity or "high"))
    return run_app(_settings(args, incident_title=title, severity=severity or "high"))


if __name__ == "__main__":
    raise SystemExit(main())
