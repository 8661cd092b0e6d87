"""Seed replicas: the best node of an idea rerun with k seeds. Their aggregate (mean and
standard error of every declared metric) is computed by a small notebook,
`experiments/<idea>/replicas/<node>.ipynb`, which reads the replicas' records and records
`<metric>_mean`, `<metric>_se` and `num_seeds`, so the paper can cite the aggregate as a
record like any other number."""

from __future__ import annotations

from aisci.execution import build

AGGREGATE_CODE = '''import math
import statistics
from pathlib import Path

import aisci
from aisci.records import read_records

values = {metric: [] for metric in metrics}
for notebook in replica_notebooks:
    found = {r.name: r.value for r in read_records(Path(study_dir) / notebook)}
    for metric in metrics:
        if isinstance(found.get(metric), (int, float)):
            values[metric].append(float(found[metric]))
for metric, seen in values.items():
    if not seen:
        continue
    mean = statistics.fmean(seen)
    se = statistics.stdev(seen) / math.sqrt(len(seen)) if len(seen) > 1 else float("nan")
    print(f"{metric}: {mean:.6g} ± {se:.3g} (standard error, {len(seen)} seeds)")
    aisci.record(f"{metric}_mean", mean, description=f"mean of {metric} over {len(seen)} seed replicas of {node}")
    aisci.record(f"{metric}_se", se, description=f"standard error of {metric} over {len(seen)} seed replicas of {node}")
aisci.record("num_seeds", len(replica_notebooks), description=f"seed replicas of {node}")'''


def aggregate_notebook(study_dir: str, node_id: str, replica_notebooks: list[str], seeds: list[int],
                       metrics: list[str]):
    nb = build.notebook(f"Seed replicas of {node_id}", build.AISCI_AUTHOR, intro=(
        f"The node `{node_id}` rerun with seeds {', '.join(map(str, seeds))} (one replica node each). This "
        "notebook reads the replicas' records and records the mean and the standard error "
        "(sample standard deviation / √n) of every declared metric."))
    nb.cells.append(build.parameters_cell({"study_dir": study_dir, "node": node_id,
                                           "replica_notebooks": replica_notebooks, "metrics": metrics}))
    nb.cells.append(build.code(AGGREGATE_CODE))
    return nb
