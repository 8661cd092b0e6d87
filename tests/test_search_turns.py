"""Turns (aisci/search/turns.py): trees plan round after round from the same view of the
study whatever order their nodes finish in, never deadlock, and keep the workers busy."""

from __future__ import annotations

import random

from aisci.search.turns import Turns

TREES = ["baseline", "a", "b", "c"]
ROUNDS = {"baseline": 1, "a": 4, "b": 2, "c": 3}  # rounds of nodes each tree's search makes
WIDTH = {"a": 2, "b": 1, "c": 3}  # nodes per round


def simulate(workers: int, rng: random.Random | None, overlapped: set | None = None) -> tuple[dict, int]:
    """A search on `workers` workers; node durations drawn by rng (None: all equal, run one
    at a time in order, as serially). Returns what each tree saw when it planned each round
    (every node of the study at that moment) and the number of time steps taken. Rounds
    planned while another tree's nodes were still running go into `overlapped`."""
    turns = Turns(TREES, planned={"baseline": 1})
    nodes = {name: [] for name in TREES}
    nodes["baseline"].append(("baseline", 1, 0))
    running, queue, views, clock = {}, [("baseline", 1, 0)], {}, 0
    while True:
        planned = True
        while planned:
            planned = False
            for name in turns.order:
                busy = any(node[0] == name for node in [*running, *queue])
                if busy or not turns.may_plan(name):
                    continue
                round_number = turns.planned[name] + 1
                more = name != "baseline" and round_number <= ROUNDS[name]
                if more:
                    views[(name, round_number)] = sorted(n for ns in nodes.values() for n in ns)
                    if overlapped is not None and any(node[0] != name for node in running):
                        overlapped.add((name, round_number))
                    for i in range(WIDTH[name]):
                        nodes[name].append((name, round_number, i))
                        queue.append((name, round_number, i))
                turns.record(name, finished=not more)
                planned = True
        while queue and len(running) < workers:
            node = queue.pop(0)
            running[node] = clock + (rng.randint(1, 5) if rng else 1)
        if not running:
            assert turns.over
            return views, clock
        clock = min(running.values())
        for node in [n for n, end in running.items() if end == clock]:
            del running[node]


def test_every_tree_plans_from_the_view_a_serial_run_has():
    serial, _ = simulate(1, None)
    assert len(serial) == sum(ROUNDS.values()) - 1
    for seed in range(200):
        rng = random.Random(seed)
        parallel, _ = simulate(rng.randint(2, 6), rng)
        assert parallel == serial, seed


def test_a_tree_plans_its_next_round_while_another_tree_still_runs():
    overlapped: set = set()
    simulate(4, random.Random(3), overlapped)
    assert len(overlapped) >= 2  # no barrier between rounds: planning goes on beside running nodes
    serial: set = set()
    simulate(1, None, serial)
    assert not serial


def test_more_workers_finish_sooner():
    durations = []
    for workers in (1, 2, 4):
        _, clock = simulate(workers, random.Random(7))
        durations.append(clock)
    assert durations[0] > durations[1] > durations[2]


def test_a_finished_tree_never_holds_up_the_others():
    turns = Turns(["baseline", "a", "b"], planned={"baseline": 1})
    turns.record("a", finished=True)
    assert turns.may_plan("b")
    turns.record("b", finished=False)
    assert turns.may_plan("baseline") and not turns.may_plan("b")
    turns.record("baseline", finished=True)
    assert turns.may_plan("b") and not turns.over
    turns.record("b", finished=True)
    assert turns.over
