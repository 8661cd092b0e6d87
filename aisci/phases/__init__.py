"""The phases of a study, in order. Each is a module with one entry point, `run(ctx)`,
and `inputs(ctx)`: what besides the upstream phase's outputs decides its result."""

from aisci.phases import analysis, experiments, ideation, novelty, review, writeup

PHASES = {
    "ideation": ideation,
    "novelty": novelty,
    "experiments": experiments,
    "analysis": analysis,
    "writeup": writeup,
    "review": review,
}
