"""The chaos run's report: REPORT.md for people, results.json for tools, the processes' logs."""

import json
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from chaos.audit import SHOWN, Audit
from chaos.nemesis import FAULT_KINDS, Plan
from chaos.stack import RELAYS, WEB_PROCESSES, WORKERS


@dataclass(frozen=True)
class Run:
    """One chaos run, as reported."""

    seed: int
    seconds: float
    smoke: bool
    plan: Plan
    result: Audit
    phases: dict[str, float]
    when: datetime


def write(out: Path, run: Run, logs: dict[str, str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "REPORT.md").write_text(_markdown(run))
    result = run.result
    (out / "results.json").write_text(
        json.dumps(
            {
                "seed": run.seed,
                "seconds": run.seconds,
                "smoke": run.smoke,
                "holds": result.holds,
                "faults": [asdict(fault) for fault in run.plan.faults],
                "counts": result.counts,
                "invariants": [asdict(invariant) for invariant in result.invariants],
                "window_duplicates": result.window_duplicates,
                "phases": run.phases,
            },
            indent=2,
        )
        + "\n"
    )
    logs_dir = out / "logs"  # not committed (.gitignore): for whoever investigates a failure
    logs_dir.mkdir(exist_ok=True)
    for name, text in logs.items():
        (logs_dir / f"{name}.log").write_text(text)


def _markdown(run: Run) -> str:
    seed, seconds, plan, result = run.seed, run.seconds, run.plan, run.result
    kinds = Counter(fault.kind for fault in plan.faults)
    workers = ", ".join(f"{queue}" for queue, _ in WORKERS)
    lines = [
        "# Chaos run" + (" (smoke)" if run.smoke else ""),
        "",
        f"Seed **{seed}**, {seconds:.0f} s of workload, {run.when:%Y-%m-%d %H:%M} UTC. "
        f"Reproduce: `CHAOS_SECONDS={seconds:.0f} CHAOS_SEED={seed} make chaos` (the same faults at the "
        "same moments and the same client choices; the processes' own timing differs from run to run).",
        "",
        f"Stack: {WEB_PROCESSES} web processes (gunicorn, 2 workers each), Celery workers for {workers} "
        f"(concurrency 2 each), {RELAYS} outbox relays, beat; local SMTP, Telegram Bot API and the "
        "payment provider; TCP proxies in front of PostgreSQL and RabbitMQ.",
        "",
        f"**Verdict: {'every invariant holds' if result.holds else 'INVARIANTS BROKEN'}.**",
        "",
        "## Invariants",
        "",
        "| invariant | holds | figure |",
        "| --- | --- | --- |",
        *(f"| {i.name} | {'yes' if i.holds else '**NO**'} | {i.figure} |" for i in result.invariants),
        "",
    ]
    for invariant in result.invariants:
        if not invariant.holds:
            lines += [f"**{invariant.name}** — {len(invariant.broken)} case(s):", ""]
            lines += [f"- {case}" for case in invariant.broken[:SHOWN]] + [""]
    if result.window_duplicates:
        lines += [
            f"Duplicates in the documented window (same Message-ID, or the same Telegram text to the "
            f"same chat; counted apart): {len(result.window_duplicates)}",
            "",
            *(f"- {case}" for case in result.window_duplicates[:SHOWN]),
            "",
        ]
    lines += [
        "## Operations",
        "",
        "| figure | count |",
        "| --- | --- |",
        *(f"| {name.replace('_', ' ')} | {count} |" for name, count in sorted(result.counts.items())),
        "",
        "Phases: " + ", ".join(f"{name} {value:.0f} s" for name, value in run.phases.items()) + ".",
        "",
        f"## Faults: {len(plan.faults)}, {len(kinds)} of {len(FAULT_KINDS)} kinds",
        "",
        "| kind | count |",
        "| --- | --- |",
        *(f"| {kind} | {kinds[kind]} |" for kind in FAULT_KINDS),
        "",
        "## Fault timeline (seconds from the start of the workload)",
        "",
        "| # | fault | target | planned | started | healed | detail |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        *(
            f"| {f.number} | {f.kind} | {f.resource} | {f.at:.1f} | {_at(f.started)} | {_at(f.healed)} | "
            f"{_detail(f.kind, f.duration, f.parameter, f.effect)} |"
            for f in plan.faults
        ),
        "",
    ]
    return "\n".join(lines)


def _at(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _detail(kind: str, duration: float, parameter: float, effect: str) -> str:
    parts = []
    if duration:
        parts.append(f"{duration:.1f} s")
    if parameter:
        parts.append(f"+{parameter * 1000:.0f} ms a chunk")
    if effect:
        parts.append(effect)
    return ", ".join(parts)
