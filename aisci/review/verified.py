"""What the offline reviewer may credit a study's paper with: only what the study itself shows.
Seeds come from the replicas of a configuration, ablations from ablation nodes, datasets from the
datasets the runs used, and the writeup's open integrity problems from paper/checks.json. A paper
reviewed on its own (`aisci review any.pdf`) has none of these, and is read by its text alone."""

from __future__ import annotations

import json
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path

from aisci.artifacts import ExperimentSummary
from aisci.paper.claims import seeds_per_configuration
from aisci.paper.sections import sections_digest
from aisci.search.node import Node, NodeKind, NodeStatus


@dataclass(frozen=True)
class VerifiedFacts:
    seeds: int  # seeds of the most-replicated configuration (1: no replicas)
    ablation_nodes: int
    datasets: int  # distinct datasets the finished runs used
    open_problems: tuple[str, ...] = ()  # the writeup's problems nobody fixed or accepted

    def as_dict(self) -> dict:
        return {**asdict(self), "open_problems": list(self.open_problems)}

    @classmethod
    def from_dict(cls, data: dict | None) -> VerifiedFacts | None:
        if not data:
            return None
        return cls(int(data["seeds"]), int(data["ablation_nodes"]), int(data["datasets"]),
                   tuple(data.get("open_problems", ())))


def study_of(paper_file: str | Path) -> Path | None:
    """The study a paper file belongs to (STUDY/paper/main.tex, paper.md or a PDF in it), or None."""
    folder = Path(paper_file).resolve().parent
    root = folder.parent
    return root if folder.name == "paper" and (root / "aisci.toml").is_file() else None


def from_study(root: str | Path) -> VerifiedFacts:
    root = Path(root)
    finished = [n for n in _nodes(root) if n.status == NodeStatus.DONE]
    manifest = _manifest(root)
    seed_parameter = manifest.get("seed_parameter", "seed")
    dataset_keys = [k for k in manifest.get("parameters", {}) if "dataset" in k.lower()]
    datasets = {json.dumps([n.parameters.get(k) for k in dataset_keys]) for n in finished}
    checks = _json(root / "paper" / "checks.json") or {}
    problems = [f"[{f.get('id')}] {f.get('section') or 'paper'}: {f['detail']}" for f in checks.get("findings", [])
                if not f.get("ok") and f.get("severity", "error") == "error" and f.get("status") != "accepted"]
    if checks.get("sections_digest") and checks["sections_digest"] != sections_digest(root / "paper" / "sections"):
        problems.append("the sections changed after the writeup last checked them: nothing in them is verified")
    return VerifiedFacts(
        seeds=max(1, seeds_per_configuration(finished, seed_parameter)),
        ablation_nodes=sum(n.kind == NodeKind.ABLATION for n in finished),
        datasets=max(1, len(datasets)) if dataset_keys else 1,
        open_problems=tuple(problems))


def _nodes(root: Path) -> list[Node]:
    """The experiment nodes; none when the summary is missing or unreadable (the paper is then read alone)."""
    try:
        return ExperimentSummary.load(root).nodes
    except (OSError, ValueError):  # a pydantic ValidationError is a ValueError
        return []


def _manifest(root: Path) -> dict:
    try:
        config = tomllib.loads((root / "aisci.toml").read_text(encoding="utf-8"))
        folder = root / config.get("study", {}).get("template", "template")
        return tomllib.loads((folder / "manifest.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def _json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
