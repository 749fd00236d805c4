"""What every tool in tools/ shares: config flags and how failures are reported.

A `UserError` becomes one line on stderr and its exit status (2 for config
problems); a stop signal exits with 128 + its number as shells expect (130 for
Ctrl-C, 143 for SIGTERM, 129 for SIGHUP). Anything else is a bug and keeps its
traceback.
"""

import os
import signal
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


# control characters a file name may hold, shown escaped so a message stays one line
_CONTROL = {code: f"\\x{code:02x}" for code in [*range(32), 127]}
_CONTROL.update({ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"})


def one_line(text):
    """`text` on one printable line, whatever names it quotes: a newline or other
    control character in a file name is escaped, and bytes that are not UTF-8 (a
    name from another system, decoded by Python as surrogates) are shown as \\xNN."""
    text = str(text).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text.translate(_CONTROL)


def error_line(err):
    return "error: " + one_line(err)


def run(main):
    """Call main() and exit with its status, reporting user errors in one line."""
    for stream in (sys.stdout, sys.stderr):
        # whatever the terminal's encoding: a character it cannot show is escaped, never a
        # UnicodeEncodeError that stops the tool half-way through a folder
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    quiet_other_ranks()  # under paddle.distributed.launch only rank 0 reports
    try:
        status = main() or 0
    except UserError as err:
        print(error_line(err), file=sys.stderr)
        status = err.exit_code
        let_other_ranks_report(status)
    except KeyboardInterrupt as stop:  # a TrainingInterrupted says what was saved
        print(one_line(f"interrupted: {stop}" if str(stop) else "interrupted"), file=sys.stderr)
        status = 128 + getattr(stop, "signum", signal.SIGINT)
    sys.exit(status)
