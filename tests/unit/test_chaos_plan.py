"""The chaos run's fault plan: drawn from the seed alone, every kind of fault, no two faults
on one resource at once, all healed before the workload ends."""

from collections import Counter

import pytest

from chaos.nemesis import FAULT_KINDS, FULL_PACE, RECOVERY_SECONDS, SMOKE_PACE, SMOKE_SECONDS, Pace, plan

PROCESSES = {
    "web-1": "web",
    "web-2": "web",
    "worker-payments-1": "worker",
    "worker-notifications-1": "worker",
    "worker-notifications-2": "worker",
    "relay-1": "relay",
    "relay-2": "relay",
    "beat": "beat",
}


@pytest.mark.parametrize(("seconds", "pace"), [(600, FULL_PACE), (SMOKE_SECONDS, SMOKE_PACE)])
@pytest.mark.parametrize("seed", [1, 18, 424242])
def test_a_seed_names_the_same_faults_every_kind_at_least_once(seed: int, seconds: float, pace: Pace):
    faults = plan(seed=seed, seconds=seconds, processes=PROCESSES, pace=pace).faults
    again = plan(seed=seed, seconds=seconds, processes=PROCESSES, pace=pace).faults

    assert faults == again
    assert set(Counter(f.kind for f in faults)) == set(FAULT_KINDS)
    assert len(faults) >= (20 if seconds >= 600 else len(FAULT_KINDS))
    assert max(f.at + f.duration for f in faults) <= seconds * 0.85
    assert {f.resource for f in faults if f.kind in ("sigkill", "sigstop")} <= set(PROCESSES)


@pytest.mark.parametrize("seed", [1, 18, 424242])
def test_a_full_run_kills_stops_and_cuts_off_every_kind_of_process(seed: int):
    faults = plan(seed=seed, seconds=600, processes=PROCESSES).faults
    hit = {(f.kind, PROCESSES.get(f.resource, f.resource)) for f in faults}
    kinds = set(PROCESSES.values())  # database-kill-connections targets a kind: "kind:web" is "web"
    for fault in ("sigkill", "sigstop", "database-kill-connections"):
        assert {k for f, k in hit if f == fault} == kinds, fault


def test_another_seed_names_other_faults():
    one, other = (plan(seed=s, seconds=600, processes=PROCESSES).faults for s in (1, 2))
    assert [(f.kind, f.at) for f in one] != [(f.kind, f.at) for f in other]


@pytest.mark.parametrize("seed", range(1, 21))
def test_faults_on_one_resource_never_overlap(seed: int):
    by_resource: dict[str, list[tuple[float, float]]] = {}
    for fault in plan(seed=seed, seconds=600, processes=PROCESSES).faults:
        if fault.duration:
            by_resource.setdefault(fault.resource, []).append((fault.at, fault.at + fault.duration))
    for spans in by_resource.values():
        for (_, end), (start, _) in zip(sorted(spans), sorted(spans)[1:], strict=False):
            assert start >= end + RECOVERY_SECONDS
