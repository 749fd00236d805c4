"""Export a checkpoint as a Paddle Inference model (and ONNX), verified against it.

    python tools/export.py --resume output/mnist
    python tools/export.py --resume output/mnist --output inference/mnist --onnx
"""


def add_arguments(parser):
    parser.add_argument("--resume", required=True, metavar="PREFIX",
                        help="checkpoint prefix written by tools/train.py, e.g. output/mnist")
    parser.add_argument("--output", default="inference/mnist", metavar="PREFIX",
                        help="where to write PREFIX.json, .pdiparams, .preprocess.json "
                             "(default: inference/mnist)")
    parser.add_argument("--onnx", action="store_true",
                        help="also write PREFIX.onnx with paddle2onnx")
    parser.add_argument("-o", "--override", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE",
                        help="override a saved config value, e.g. -o data.root=/data/mnist")


def main(args):
    from .. import export
    from ..reports import summary

    result = export.export(args.resume, args.output, onnx=args.onnx, overrides=args.overrides)
    print(summary.export_summary(result))
