"""One module per sub-command; each exposes `add_arguments(parser)` and `run(arguments) -> int`."""

from proofs_check.commands import bound, complexity, constants, experiment, replay, run, schedule, simulate, steps, theorem, tightness

COMMANDS = {
    "run": run,
    "schedule": schedule,
    "simulate": simulate,
    "constants": constants,
    "complexity": complexity,
    "steps": steps,
    "bound": bound,
    "tightness": tightness,
    "theorem": theorem,
    "replay": replay,
    "experiment": experiment,
}
