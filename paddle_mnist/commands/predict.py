"""Recognise handwritten digits in image files (photos, scans, drawings).

    python tools/predict.py --model inference/mnist my_digit.jpg scans/
    python tools/predict.py --model inference/mnist --backend onnx --topk 3 --json photo.png
    python tools/predict.py --resume output/mnist photo.png     # a training checkpoint
    python tools/predict.py --model inference/mnist --number postcode.jpg --save-debug debug/
"""


def add_arguments(parser):
    parser.add_argument("inputs", nargs="+", metavar="IMAGE_OR_FOLDER",
                        help="image files, or folders whose files are all predicted")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--model", default="inference/mnist", metavar="PREFIX",
                        help="exported model prefix (tools/export.py; default inference/mnist)")
    source.add_argument("--resume", metavar="PREFIX",
                        help="use a training checkpoint instead, e.g. output/mnist")
    parser.add_argument("--backend", choices=("paddle", "onnx"), default="paddle",
                        help="Paddle Inference (default) or ONNX Runtime on PREFIX.onnx")
    parser.add_argument("--topk", type=int, default=1, metavar="K",
                        help="also show the next most likely digits (default 1)")
    parser.add_argument("--number", action="store_true",
                        help="read each image as a whole number of one or more digits (and "
                             "lines): postcodes, amounts, meter readings (docs/reading-numbers.md)")
    parser.add_argument("--json", action="store_true", help="one JSON object per image")
    parser.add_argument("--save-debug", metavar="DIR",
                        help="write the 28x28 image the model saw for each file into DIR "
                             "(with --number: each digit's, and the picture with its boxes)")
    parser.add_argument("--batch-size", type=int, default=64, metavar="N",
                        help="images per inference call (default 64)")


def check(parser, args):
    if args.topk < 1 or args.batch_size < 1:
        parser.error("--topk and --batch-size must be at least 1")


def main(args):
    import json
    import sys

    from ..cli import one_line
    from ..predict import predict_files
    from ..predictors import open_predictor

    predictor = open_predictor(args.resume or args.model, args.backend)
    topk = min(args.topk, len(predictor.class_names))
    if args.number:
        from ..numbers import TOP, read_files

        results = read_files(predictor, args.inputs, topk=max(topk, TOP),
                             debug_dir=args.save_debug)
    else:
        results = predict_files(predictor, args.inputs, topk=topk, batch_size=args.batch_size,
                                debug_dir=args.save_debug)
    failed = 0
    for result in results:
        if result.error:
            failed += 1
            print(f"error: {one_line(result.error)}", file=sys.stderr)
        if args.json:
            print(json.dumps(result.to_dict()), flush=True)
        elif not result.error:
            print(one_line(result.to_text()), flush=True)
    if failed:
        print(f"{failed} of the inputs could not be predicted", file=sys.stderr)
    return 1 if failed else 0
