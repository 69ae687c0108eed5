"""Failures that a command reports as one line on stderr, with their exit status."""


class InvalidArgument(Exception):
    """An argument that argparse accepted is unusable, such as a file that exists already.

    The command exits with status 2, like an argparse usage error.
    """


class CommandFailed(Exception):
    """A command could not finish for a reason outside the operator's input.

    Examples are an unreachable database or Bot API server. The command exits
    with status 1. Invalid input and configuration raise InvalidArgument,
    ConfigError or a DomainError instead, which exit with status 2.
    """
