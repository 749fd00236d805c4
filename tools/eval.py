"""Evaluate a checkpoint on the MNIST test set.

    python tools/eval.py --resume output/mnist
    python tools/eval.py --resume output/mnist --json
    python tools/eval.py --resume output/mnist --report reports/lenet   # + figures, per-class
"""

import argparse
import json

from paddle_mnist import cli


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
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
    return parser.parse_args()


def main():
    args = parse_args()
    from paddle_mnist import engine

    if args.report:
        from paddle_mnist.reports import evaluation

        report = evaluation.build_report(args.resume, args.report, args.overrides, args.split)
        print(json.dumps(report) if args.json else evaluation.summary(report, args.report))
        return
    result = engine.evaluate(args.resume, args.overrides, args.split)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{result['checkpoint']} ({result['model']}, epoch {result['epoch']}): "
              f"{args.split} accuracy {result['acc']:.2%}, loss {result['loss']:.4f} "
              f"on {result['samples']} images")


if __name__ == "__main__":
    cli.run(main)
