"""What the study came to, in aisci's own words, built from the records alone.

When no idea reached the experiments, no idea's node ran, every one failed, or nothing beat
the baseline, the paper says so here whatever engine wrote its sections: a model's prose
may gloss over an empty result, this paragraph cannot. A study with a run that beat the
baseline gets no paragraph (the sections report it, checked against the records)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from aisci.paper import latex
from aisci.search.node import Node, NodeStatus

BASELINE = "baseline"
REASON_CHARS = 220  # of a failure reason quoted in the paper


@dataclass(frozen=True)
class Outcome:
    kind: str  # no_idea | none_ran | all_failed | baseline_failed | no_gain
    text: str  # plain English

    def to_latex(self) -> str:
        return (r"\paragraph{Outcome, stated by aisci from the records.} " + latex.escape(self.text) + "\n")

    def to_markdown(self) -> str:
        return f"**Outcome, stated by aisci from the records.** {self.text}\n"


def study_outcome(nodes: list[Node], *, ideas_proposed: int, ideas_passed: int, not_novel: int,
                  primary: str, direction: str, best: str | None) -> Outcome | None:
    """nodes: the experiments summary's rows; best: the node the experiments phase chose."""
    metric = primary.replace("_", " ")
    tried = [n for n in nodes if n.idea != BASELINE]
    baseline = next((n for n in nodes if n.idea == BASELINE), None)
    if not tried:
        why = (f"{_count(not_novel, 'idea')} judged not novel" if not_novel else
               "none was approved at the gates" if ideas_proposed else "the ideation phase kept none")
        return Outcome("no_idea", f"No idea was implemented. The study proposed {_count(ideas_proposed, 'idea')}; "
                                  f"{_count(ideas_passed, 'idea').removesuffix('s') if ideas_passed == 0 else _count(ideas_passed, 'idea')} passed the novelty check and the gates ({why}), so "
                                  f"only the template's baseline ran and this paper reports no tested idea.")
    ran = [n for n in tried if n.status != NodeStatus.INVALID]
    if not ran:
        return Outcome("none_ran", f"No idea was implemented: the plan of every one of the {_count(len(tried), 'node')} "
                                   f"the search made stayed invalid after its rounds, so none of them ran. "
                                   f"{_reasons(tried)}")
    done = [n for n in ran if n.status == NodeStatus.DONE and isinstance(n.metrics.get(primary), (int, float))]
    if not done:
        return Outcome("all_failed", f"Every run of the ideas failed: {_statuses(tried)}, and none recorded the "
                                     f"{metric}. {_reasons(tried)}")
    if baseline is None or baseline.status != NodeStatus.DONE:
        return Outcome("baseline_failed", "The baseline did not finish"
                       + (f" ({_clip(baseline.failure)})" if baseline and baseline.failure else "")
                       + f", so no run can be compared with it; the {metric} values below stand alone.")
    if best is None or best == baseline.id or not _beats(best, baseline, done, primary, direction):
        return Outcome("no_gain", f"No run beat the baseline's {metric}: of {_count(len(tried), 'node')} the search made "
                                  f"for the ideas ({_statuses(tried)}), none reached a "
                                  f"{'higher' if direction == 'maximize' else 'lower'} {metric} than the baseline.")
    return None


def _beats(best: str, baseline: Node, done: list[Node], primary: str, direction: str) -> bool:
    node = next((n for n in done if n.id == best), None)
    if node is None:
        return False
    ours, theirs = node.metrics[primary], baseline.metrics.get(primary)
    if not isinstance(theirs, (int, float)):
        return True
    return ours > theirs if direction == "maximize" else ours < theirs


def _statuses(nodes: list[Node]) -> str:
    words = {"done": "finished", "failed": "failed", "timed_out": "timed out", "died": "died",
             "invalid": "never ran (invalid plan)", "running": "never finished"}
    counts = Counter(n.status.value for n in nodes)
    return ", ".join(f"{_count(c, 'node')} {words.get(s, s)}" for s, c in counts.most_common())


def _reasons(nodes: list[Node]) -> str:
    failed = [n for n in nodes if n.failure]
    reasons = Counter(_clip(n.failure) for n in failed)
    if not reasons:
        return ""
    reason, times = reasons.most_common(1)[0]
    if times == 1:
        first = next(n for n in failed if _clip(n.failure) == reason)
        return f"For example, {first.id}: {reason}."
    return f"The most common reason ({_count(times, 'node')}): {reason}."


def _clip(text: str | None) -> str:
    text = " ".join(str(text or "").split()).rstrip(".")
    return text if len(text) <= REASON_CHARS else text[:REASON_CHARS].rsplit(" ", 1)[0].rstrip(".;,:") + " (cut)"


WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def _count(n: int, noun: str) -> str:
    return f"{WORDS[n] if n < len(WORDS) else n} {noun}{'' if n == 1 else 's'}"
