"""Every tool as a subcommand of one console script, `paddle-mnist`.

`tools/train.py` and `paddle-mnist train` are the same command: each module
here has a docstring (its help), `add_arguments(parser)`, an optional
`check(parser, args)` for what argparse cannot express, and `main(args)`.
The modules import paddle only inside `main`, so `--help`, argument errors and
config mistakes answer at once.
"""

import argparse
import sys

from .. import cli
from . import (ablate, benchmark, compose, dataset, evaluate, export, finetune, models, plot,
               predict, results, serve, show_data, sweep, train, update)

COMMANDS = {
    "train": train, "finetune": finetune, "eval": evaluate, "export": export,
    "predict": predict, "serve": serve, "dataset": dataset, "models": models,
    "update": update, "sweep": sweep, "ablate": ablate, "plot": plot, "results": results,
    "show-data": show_data, "benchmark": benchmark, "compose": compose,
}


def _summary(module):
    return module.__doc__.strip().splitlines()[0]


def _configure(parser, module):
    module.add_arguments(parser)
    parser.set_defaults(command_module=module, command_parser=parser)


def _invoke(args):
    module = args.command_module
    if hasattr(module, "check"):
        module.check(args.command_parser, args)
    return module.main(args)


def run_tool(name, argv=None):
    """`tools/<name>.py`: parse `argv` (default: the command line) and run the command."""
    module = COMMANDS[name]
    parser = argparse.ArgumentParser(description=module.__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    _configure(parser, module)
    args = parser.parse_args(argv)
    cli.run(lambda: _invoke(args))


def main(argv=None):
    """The `paddle-mnist` console script: `paddle-mnist COMMAND [options]`."""
    parser = argparse.ArgumentParser(
        prog="paddle-mnist", description="Handwritten digit recognition on PaddlePaddle's "
        "high-level API: train, fine-tune, evaluate, export, predict and serve.",
        epilog="Run 'paddle-mnist COMMAND --help' for the options of a command.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module in COMMANDS.items():
        _configure(commands.add_parser(name, help=_summary(module), description=module.__doc__,
                                       formatter_class=argparse.RawDescriptionHelpFormatter),
                   module)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    cli.run(lambda: _invoke(args))
