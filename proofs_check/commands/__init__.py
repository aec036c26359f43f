"""One module per sub-command; each exposes `add_arguments(parser)` and `run(arguments) -> int`."""

from proofs_check.commands import complexity, constants, schedule, simulate, steps

COMMANDS = {
    "schedule": schedule,
    "simulate": simulate,
    "constants": constants,
    "complexity": complexity,
    "steps": steps,
}
