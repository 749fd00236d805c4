"""Export a checkpoint as a Paddle Inference model (and ONNX), verified against it.

    python tools/export.py --resume output/mnist
    python tools/export.py --resume output/mnist --output inference/mnist --onnx
"""

import argparse

from paddle_mnist import cli


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
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
    return parser.parse_args()


def main():
    args = parse_args()
    from paddle_mnist import export

    result = export.export(args.resume, args.output, onnx=args.onnx, overrides=args.overrides)
    spec = result.spec
    print(f"exported {spec['source']} ({spec['model']}, epoch {spec['source_epoch']}) "
          f"with input [N, 1, {spec['input_size']}, {spec['input_size']}]")
    for backend, diff in result.max_abs_diff.items():
        print(f"verified {backend}: max abs logit difference {diff:.2e} vs dygraph, same "
              f"prediction on {result.agreement[backend]}/{result.images} test images")
    print("files written:")
    for path in result.files:
        print(f"  {path}")


if __name__ == "__main__":
    cli.run(main)
