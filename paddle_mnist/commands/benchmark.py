"""Measure training throughput or inference speed, as a table or JSON.

    python tools/benchmark.py train -c configs/lenet.yml --batch-sizes 64,256 --compare-torch
    python tools/benchmark.py infer --model inference/mnist
    python tools/benchmark.py serve --model inference/mnist   # the server, canvas drawings
    python tools/benchmark.py preprocess --model inference/mnist   # 640x480 photos -> 28x28
    python tools/benchmark.py read --model inference/mnist   # 1280x720 photo -> 8-digit number
    python tools/benchmark.py dashboard -c configs/lenet.yml --repeats 3   # VisualDL's cost
    python -m paddle.distributed.launch --nproc_per_node 2 tools/benchmark.py train \\
        -c configs/lenet.yml --batch-sizes 128     # data parallel: global batch 256
"""

import argparse

from .. import cli


def batch_sizes(text):
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers separated by commas, "
                                         f"e.g. 64,256; got {text!r}")
    return sizes


def add_arguments(parser):
    commands = parser.add_subparsers(dest="benchmark", required=True,
                                     metavar="{train,infer,serve,preprocess,read,dashboard}")
    train = commands.add_parser("train", help="training images/s through tools/train.py's path")
    cli.add_config_args(train, config_required=True)
    train.add_argument("--batch-sizes", type=batch_sizes, default=None, metavar="B1,B2",
                       help="per-process batch sizes to measure, e.g. 64,256 "
                            "(default: the config's train.batch_size)")
    train.add_argument("--steps", type=int, default=200,
                       help="timed training steps per measurement (default 200)")
    train.add_argument("--warmup", type=int, default=20,
                       help="untimed steps before timing starts (default 20)")
    train.add_argument("--windows", type=int, default=5,
                       help="timed steps are split into this many windows; the median "
                            "window's images/s is reported (default 5)")
    train.add_argument("--compare-torch", action="store_true",
                       help="also time the same network in a plain PyTorch eager loop "
                            "(needs: pip install -r requirements-bench.txt)")
    train.add_argument("--profile", action="store_true",
                       help="also profile paddle's step per operator (paddle.profiler, a "
                            "separate run at the first batch size) and show where time goes")
    train.add_argument("--json", action="store_true", help="print one JSON document")
    train.set_defaults(measure=measure_training)
    infer = commands.add_parser("infer", help="latency and images/s of an exported model")
    infer.add_argument("--model", required=True, metavar="PREFIX",
                       help="exported model prefix written by tools/export.py, "
                            "e.g. inference/mnist")
    infer.add_argument("--batch1-calls", type=int, default=2000,
                       help="batch-1 calls timed per backend for p50/p99 latency (default 2000)")
    infer.add_argument("--big-batch", type=int, default=256,
                       help="batch size of the throughput measurement (default 256)")
    infer.add_argument("--big-batch-calls", type=int, default=100,
                       help="calls at --big-batch timed per backend (default 100)")
    infer.add_argument("--json", action="store_true", help="print one JSON document")
    infer.set_defaults(measure=measure_inference)
    serve = commands.add_parser("serve", help="POST /api/predict round trips of the real "
                                              "server, each record committed")
    serve.add_argument("--model", required=True, metavar="PREFIX",
                       help="exported model prefix written by tools/export.py, "
                            "e.g. inference/mnist")
    serve.add_argument("--db", default=None, metavar="URL",
                       help="record database (default: a new SQLite file in a temporary "
                            "folder, removed afterwards)")
    serve.add_argument("--backend", choices=("paddle", "onnx"), default="paddle",
                       help="predictor backend of the server (default paddle)")
    serve.add_argument("--requests", type=int, default=500,
                       help="timed requests, sent one at a time (default 500)")
    serve.add_argument("--warmup", type=int, default=20,
                       help="untimed requests first (default 20)")
    serve.add_argument("--canvas", type=int, default=280,
                       help="side in pixels of the drawn canvas (default 280)")
    serve.add_argument("--json", action="store_true", help="print one JSON document")
    serve.set_defaults(measure=measure_serving)
    prep = commands.add_parser("preprocess", help="ms to turn a 640x480 photo into the network's "
                               "28x28 input, and images/s of tools/predict.py on 1,000 photos")
    prep.add_argument("--model", default="inference/mnist", metavar="PREFIX",
                      help="model for the predict throughput: an exported prefix or a "
                           "checkpoint prefix (default inference/mnist)")
    prep.add_argument("--backend", choices=("paddle", "onnx"), default="paddle",
                      help="predictor backend of an exported model (default paddle)")
    prep.add_argument("--photos", type=int, default=1000,
                      help="photos in the folder tools/predict.py reads (default 1000)")
    prep.add_argument("--timed", type=int, default=300,
                      help="photos timed one by one for the per-photo medians (default 300)")
    prep.add_argument("--profile", action="store_true",
                      help="also profile to_mnist with cProfile and show where time goes")
    prep.add_argument("--json", action="store_true", help="print one JSON document")
    prep.set_defaults(measure=measure_preprocessing)
    read = commands.add_parser("read", help="ms to read an 8-digit number from a decoded "
                               "1280x720 photo (tools/predict.py --number's reader)")
    read.add_argument("--model", default="inference/mnist", metavar="PREFIX",
                      help="exported model prefix or checkpoint prefix (default inference/mnist)")
    read.add_argument("--backend", choices=("paddle", "onnx"), default="paddle",
                      help="predictor backend of an exported model (default paddle)")
    read.add_argument("--photos", type=int, default=40, help="distinct photos (default 40)")
    read.add_argument("--rounds", type=int, default=5,
                      help="times each photo is read (default 5)")
    read.add_argument("--json", action="store_true", help="print one JSON document")
    read.set_defaults(measure=measure_reading)
    board = commands.add_parser("dashboard", help="wall time of a whole training run with the "
                                "VisualDL dashboard off and on, interleaved")
    cli.add_config_args(board, config_required=True)
    board.add_argument("--repeats", type=int, default=3,
                       help="runs with the dashboard off and on, each (default 3)")
    board.add_argument("--json", action="store_true", help="print one JSON document")
    board.set_defaults(measure=measure_dashboard)


def measure_training(args):
    from ..bench import training
    from ..config import load_config
    from ..reports import summary

    config = load_config(args.config, args.overrides)
    training.check_plan(args.steps, args.warmup, args.windows)
    report = training.run(config, args.batch_sizes or [config.train.batch_size], args.steps,
                          args.warmup, args.windows, args.compare_torch)
    if args.profile:
        from ..bench.profile import profile_paddle

        report["profile"] = profile_paddle(training.with_batch(config, report["results"][0]
                                                               ["batch"]),
                                           steps=args.steps, warmup=args.warmup)
    return report, summary.training_benchmark_table


def measure_inference(args):
    from ..bench import machine
    from ..bench.inference import measure_inference as measure
    from ..errors import ConfigError
    from ..reports import summary

    for flag in ("batch1_calls", "big_batch", "big_batch_calls"):
        if getattr(args, flag) < 1:
            raise ConfigError(f"--{flag.replace('_', '-')} must be at least 1")
    before = machine.describe()
    rows = measure(args.model, args.batch1_calls, args.big_batch, args.big_batch_calls)
    report = {"model": args.model, "results": rows,
              "machine": dict(before, load_average_after=machine.load_average())}
    return report, summary.inference_benchmark_table


def measure_serving(args):
    from ..bench.serving import measure_serving as measure
    from ..errors import ConfigError
    from ..reports import summary

    if args.requests < 1 or args.warmup < 0 or not 28 <= args.canvas <= 4000:
        raise ConfigError("--requests must be at least 1, --warmup at least 0 and --canvas "
                          "from 28 to 4000")
    report = measure(args.model, args.db, args.backend, args.requests, args.warmup,
                     args.canvas)
    return report, summary.serving_benchmark_table


def measure_preprocessing(args):
    from ..bench import machine
    from ..bench import preprocess as bench
    from ..errors import ConfigError
    from ..predictors import open_predictor
    from ..reports import summary

    if args.photos < 1 or args.timed < 1:
        raise ConfigError("--photos and --timed must be at least 1")
    predictor = open_predictor(args.model, args.backend)
    before = machine.describe()
    photos = bench.render_photos(max(args.photos, args.timed))
    report = {"model": args.model, "backend": args.backend, "photo_shape": bench.PHOTO_SHAPE,
              "per_photo": bench.time_steps(photos[:args.timed]),
              "predict": bench.predict_throughput(predictor, photos[:args.photos])}
    if args.profile:
        report["profile"] = bench.profile_preprocess(photos[:args.timed])
    report["machine"] = dict(before, load_average_after=machine.load_average())
    return report, summary.preprocess_benchmark_table


def measure_reading(args):
    from ..bench import machine, reading
    from ..errors import ConfigError
    from ..predictors import open_predictor

    if args.photos < 1 or args.rounds < 1:
        raise ConfigError("--photos and --rounds must be at least 1")
    predictor = open_predictor(args.model, args.backend)
    photos = reading.render(args.photos)
    before = machine.describe()
    report = {"model": args.model, "backend": args.backend, "photos": args.photos,
              **reading.measure(predictor, photos, args.rounds)}
    report["machine"] = dict(before, load_average_after=machine.load_average())
    return report, reading.table


def measure_dashboard(args):
    from ..bench import dashboard
    from ..config import load_config
    from ..errors import ConfigError
    from ..reports import summary

    if args.repeats < 1:
        raise ConfigError("--repeats must be at least 1")
    load_config(args.config, args.overrides)  # a bad config fails here, not in a child
    report = dashboard.measure(args.config, args.overrides, args.repeats)
    return report, summary.dashboard_benchmark_table


def main(args):
    import json

    report, table = args.measure(args)
    print(json.dumps(report, indent=2) if args.json else table(report))
