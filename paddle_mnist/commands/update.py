"""Learn from the service's corrections: fine-tune, check, and promote only if better.

    python tools/update.py --db service/records.db --from output/mnist
    python tools/update.py --db postgresql://app@dbhost/mnist --min-new-labels 50   # from cron

New labelled records -> fine-tune with MNIST replay -> export -> the candidate
and the current version scored on the same MNIST test set and held-out
records -> promoted (every server switches to it) only if the hold-out
accuracy rises and MNIST drops by at most 0.2 points.
"""

from .. import cli


def add_arguments(parser):
    parser.add_argument("--db", required=True, metavar="URL",
                        help="the service's record database (a SQLite file or postgresql://...)")
    parser.add_argument("--from", dest="source", metavar="PREFIX",
                        help="checkpoint to fine-tune (default: the one the current version "
                             "was made from)")
    parser.add_argument("--work", default="updates", metavar="DIR",
                        help="where each cycle keeps its labels, checkpoint and export "
                             "(default: updates/<time>)")
    parser.add_argument("--min-new-labels", type=int, default=1, metavar="N",
                        help="skip the cycle when fewer records were labelled since the last "
                             "candidate (default: 1)")
    parser.add_argument("--epochs", type=int, default=2, metavar="N",
                        help="fine-tuning epochs (default: 2)")
    parser.add_argument("--lr", type=float, metavar="RATE",
                        help="learning rate (default: one tenth of the checkpoint's)")
    parser.add_argument("--share", type=float, default=0.25, metavar="FRACTION",
                        help="share of every batch from the labelled records, the rest MNIST "
                             "(default: 0.25)")
    parser.add_argument("--holdout", type=float, default=0.2, metavar="FRACTION",
                        help="share of the labelled records never trained on, the gate's test "
                             "set (default: 0.2)")
    parser.add_argument("--max-mnist-drop", type=float, default=0.2, metavar="POINTS",
                        help="largest fall of MNIST test accuracy the gate accepts, in points "
                             "(default: 0.2)")
    cli.add_config_args(parser)


def check(parser, args):
    if args.config:
        parser.error("-c is not used: the checkpoint's saved config is; use -o to change it")
    if args.min_new_labels < 0 or args.epochs < 1:
        parser.error("--min-new-labels must be 0 or more and --epochs at least 1")
    if not 0 < args.share <= 0.9 or not 0 < args.holdout <= 0.9:
        parser.error("--share and --holdout must be above 0 and at most 0.9")
    if not 0 <= args.max_mnist_drop <= 100:
        parser.error("--max-mnist-drop is in points, from 0 to 100")


def main(args):
    from ..reports import summary
    from ..update import run_update

    result = run_update(args.db, args.source, work=args.work,
                        min_new_labels=args.min_new_labels, epochs=args.epochs, lr=args.lr,
                        share=args.share, holdout=args.holdout,
                        max_mnist_drop=args.max_mnist_drop / 100, overrides=args.overrides)
    if not result.skipped:
        print(summary.update_summary(result))
