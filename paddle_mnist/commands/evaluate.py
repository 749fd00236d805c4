"""Evaluate a checkpoint on the MNIST test set.

    python tools/eval.py --resume output/mnist
    python tools/eval.py --resume output/mnist --json
    python tools/eval.py --resume output/mnist --report reports/lenet   # + figures, per-class
"""


def add_arguments(parser):
    parser.add_argument("--resume", required=True, metavar="PREFIX",
                        help="checkpoint prefix written by tools/train.py, e.g. output/mnist")
    parser.add_argument("--split", choices=("test", "val"), default="test",
                        help="which split to score (val needs a run with data.val_split)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object instead of text")
    parser.add_argument("--report", metavar="DIR",
                        help="also write report.json (per-class precision/recall/F1, confusion "
                             "matrix, confused pairs, inference time), confusion_matrix.png, "
                             "mistakes.png and samples.png into DIR")
    parser.add_argument("-o", "--override", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE",
                        help="override a saved config value, e.g. -o data.root=/data/mnist")


def main(args):
    import json

    from ..reports import summary

    if args.report:
        from ..reports import evaluation

        report = evaluation.build_report(args.resume, args.report, args.overrides, args.split)
        print(json.dumps(report) if args.json else summary.report_summary(report, args.report))
        return
    from ..scoring import score_checkpoint

    result = score_checkpoint(args.resume, args.overrides, args.split)
    print(json.dumps(result) if args.json else summary.evaluation_line(result))
