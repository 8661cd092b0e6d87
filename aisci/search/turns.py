"""When each tree of a study's search may plan its next round, so that nodes run in parallel
and the search still makes the choices a serial run makes.

A tree plans a round when its own nodes are finished (the policy reads their results), and
plans from its own nodes plus those of the other trees (the settings tried anywhere in the
study, the baseline's metrics). So that this view is the same whatever order nodes finish
in, trees take turns by round number: tree i plans round r once every tree before it (in
the study's order) has planned round r and every tree after it has planned round r - 1.
That is exactly what a serial run, which plans the trees in order round after round, sees.

Between those turns nothing waits: a tree whose round finished plans its next one while
other trees' nodes still run, and every planned node starts as soon as a worker is free.
No tree runs more than one round ahead of another, and the tree that is furthest behind
can always plan (or is running nodes), so the search never deadlocks.
"""

from __future__ import annotations

from collections.abc import Iterable


class Turns:
    """Round numbers of the trees, in the study's order (the baseline first)."""

    def __init__(self, order: Iterable[str], planned: dict[str, int] | None = None):
        self.order = list(order)
        self.planned = {name: (planned or {}).get(name, 0) for name in self.order}  # rounds planned so far
        self.finished: set[str] = set()  # trees whose search is over

    def may_plan(self, name: str) -> bool:
        """Whether it is `name`'s turn to plan its next round (its own nodes being finished
        is for the caller to check)."""
        if name in self.finished:
            return False
        position, next_round = self.order.index(name), self.planned[name] + 1
        return (all(self._reached(other, next_round) for other in self.order[:position])
                and all(self._reached(other, next_round - 1) for other in self.order[position + 1:]))

    def record(self, name: str, *, finished: bool) -> None:
        """`name` planned a round; `finished`: its policy had nothing more to do."""
        self.planned[name] += 1
        if finished:
            self.finished.add(name)

    @property
    def over(self) -> bool:
        return len(self.finished) == len(self.order)

    def _reached(self, name: str, round_number: int) -> bool:
        return name in self.finished or self.planned[name] >= round_number
