"""Evaluate a checkpoint on the MNIST test set, or any model on a labelled folder of images.

    python tools/eval.py --resume output/mnist
    python tools/eval.py --resume output/mnist --json
    python tools/eval.py --resume output/mnist --report reports/lenet   # + figures, per-class
    python tools/eval.py --images my_digits --model inference/mnist    # your own labelled scans
    python tools/eval.py --images my_digits --resume output/mnist --report reports/mine
    python tools/eval.py --numbers numbers/mnist --model inference/mnist   # whole numbers

A labelled folder names each image's digit by a sub-folder (my_digits/7/a.png), by the
end of the file name (my_digits/a_7.png) or in my_digits/manifest.csv (columns file,label).
A folder of numbers names each picture's number in its file name (017_4071_photo.jpg).
"""


def add_arguments(parser):
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--resume", metavar="PREFIX",
                        help="checkpoint prefix written by tools/train.py, e.g. output/mnist "
                             "(required without --images)")
    source.add_argument("--model", metavar="PREFIX",
                        help="with --images or --numbers: an exported model prefix (tools/export.py; "
                             "default inference/mnist)")
    parser.add_argument("--images", metavar="DIR",
                        help="score a labelled folder of images (photos, scans) through "
                             "tools/predict.py's preprocessing instead of the MNIST test set")
    parser.add_argument("--numbers", metavar="DIR",
                        help="score the number reader (tools/predict.py --number) on pictures "
                             "named <index>_<number>_<style>.<ext>: exact numbers, digits by "
                             "edit distance, where segmentation failed")
    parser.add_argument("--backend", choices=("paddle", "onnx"), default="paddle",
                        help="with --images and --model: Paddle Inference (default) or ONNX "
                             "Runtime")
    parser.add_argument("--split", choices=("test", "val"), default=None,
                        help="MNIST split to score (default test; val needs a run with "
                             "data.val_split)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object instead of text")
    parser.add_argument("--report", metavar="DIR",
                        help="also write report.json (per-class scores, confusion matrix, "
                             "confused pairs), confusion_matrix.png and mistakes.png into DIR "
                             "(for MNIST also samples.png and inference times)")
    parser.add_argument("-o", "--override", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE",
                        help="override a saved config value of the --resume checkpoint, "
                             "e.g. -o data.root=/data/mnist")


def check(parser, args):
    if args.images and args.numbers:
        parser.error("give --images DIR (single digits) or --numbers DIR, not both")
    if args.numbers:
        if args.split or args.report:
            parser.error("--split and --report do not apply to --numbers")
        if args.overrides and not args.resume:
            parser.error("-o overrides a checkpoint's config; use it with --resume")
    elif args.images:
        if args.split:
            parser.error("--split chooses an MNIST split; it does not apply to --images")
        if args.overrides and not args.resume:
            parser.error("-o overrides a checkpoint's config; use it with --resume")
    elif not args.resume:
        parser.error("give --resume PREFIX (a checkpoint, scored on MNIST) or --images DIR "
                     "(a labelled folder of images)")
    elif args.model or args.backend != "paddle":
        parser.error("--model and --backend apply to --images; a checkpoint is scored on "
                     "MNIST with --resume alone")


def main(args):
    import json

    from ..reports import summary

    if args.numbers:
        from ..predictors import open_predictor
        from ..reports import numbers

        options = {"overrides": args.overrides} if args.overrides else {}
        predictor = open_predictor(args.resume or args.model or "inference/mnist",
                                   args.backend, **options)
        report = numbers.evaluate_numbers(predictor, args.numbers)
        print(json.dumps(report) if args.json else numbers.summary(report))
        return
    if args.images:
        from ..predictors import open_predictor
        from ..reports import folder

        options = {"overrides": args.overrides} if args.overrides else {}
        predictor = open_predictor(args.resume or args.model or "inference/mnist",
                                   args.backend, **options)
        report = folder.evaluate_folder(predictor, args.images)
        if args.report:
            folder.write_report(report, predictor, args.report)
        print(json.dumps(report) if args.json else summary.folder_report_summary(report,
                                                                                 args.report))
        return
    split = args.split or "test"
    if args.report:
        from ..reports import evaluation

        report = evaluation.build_report(args.resume, args.report, args.overrides, split)
        print(json.dumps(report) if args.json else summary.report_summary(report, args.report))
        return
    from ..scoring import score_checkpoint

    result = score_checkpoint(args.resume, args.overrides, split)
    print(json.dumps(result) if args.json else summary.evaluation_line(result))
