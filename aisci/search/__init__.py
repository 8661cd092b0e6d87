"""The experiment tree search, one tree per idea (in the spirit of AIDE and The AI
Scientist v2, with the tree on disk so a killed search resumes and a person's edit joins it).

- `node`     the node record (node.json) and an idea's tree read from its folder
- `space`    moves in the template's parameter space (coordinate steps, untried choices, ablations)
- `policy`   which nodes to make next: drafts, debug, improve, staged tuning/research/ablations, replicas
- `plans`    the LLM tasks that write a node (and their offline-engine counterparts), validated
- `compose`  a node's notebook from its parent's and a plan; a person's edit as a `human` node
- `replicas` the seed replicas' aggregate (mean and standard error), recorded by a notebook

The phase that drives it is `aisci.phases.experiments`."""
