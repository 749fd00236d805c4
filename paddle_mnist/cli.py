"""What every tool in tools/ shares: config flags and how failures are reported.

A `UserError` becomes one line on stderr and its exit status (2 for config
problems); Ctrl-C exits 130 as shells expect. Anything else is a bug and
keeps its traceback.
"""

import os
import sys
import warnings

# paddle's C++ INFO lines and its ccache warning are noise for a CLI user;
# both must be set before paddle is first imported.
os.environ.setdefault("GLOG_minloglevel", "2")
warnings.filterwarnings("ignore", message="No ccache found")
# hapi re-wraps the batch tensors our loader yields; harmless, but printed every run
warnings.filterwarnings("ignore", message="To copy construct from a tensor")
# BatchNorm layers say, on every run, that they track running statistics: they should
warnings.filterwarnings("ignore", message="When training, we now always track global mean")

from .distributed import let_other_ranks_report, quiet_other_ranks  # noqa: E402
from .errors import UserError  # noqa: E402  (after the environment is set)


def add_config_args(parser, config_required=False):
    parser.add_argument("-c", "--config", required=config_required, metavar="FILE",
                        help="YAML experiment config, e.g. configs/lenet.yml")
    parser.add_argument("-o", "--override", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE",
                        help="override one config value, e.g. -o train.epochs=1 "
                             "(repeatable; values are parsed as YAML)")


def error_line(err):
    """`error: <message>` as one line, even when it quotes a key or path holding a newline."""
    return "error: " + str(err).replace("\r", "\\r").replace("\n", "\\n")


def run(main):
    """Call main() and exit with its status, reporting user errors in one line."""
    quiet_other_ranks()  # under paddle.distributed.launch only rank 0 reports
    try:
        status = main() or 0
    except UserError as err:
        print(error_line(err), file=sys.stderr)
        status = err.exit_code
        let_other_ranks_report(status)
    except KeyboardInterrupt as stop:  # a TrainingInterrupted says what was saved
        print(f"interrupted: {stop}" if str(stop) else "interrupted", file=sys.stderr)
        status = 130
    sys.exit(status)
