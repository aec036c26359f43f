"""One module per sub-command; each exposes `add_arguments(parser)` and `run(arguments) -> int`."""

from proofs_check.commands import schedule, simulate

COMMANDS = {
    "schedule": schedule,
    "simulate": simulate,
}
