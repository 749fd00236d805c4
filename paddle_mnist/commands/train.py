"""Train a network on MNIST with paddle.Model.fit, logging to VisualDL.

    python tools/train.py -c configs/lenet.yml          (or: paddle-mnist train -c lenet)
    python tools/train.py -c configs/lenet.yml -o train.epochs=1 -o optimizer.learning_rate=0.01
    python tools/train.py --resume output/mnist          # continue an interrupted run
"""

from .. import cli


def add_arguments(parser):
    cli.add_config_args(parser)
    parser.add_argument("--resume", metavar="PREFIX",
                        help="continue the run saved at this checkpoint prefix (its saved "
                             "config is used; -o still applies), e.g. output/mnist")


def check(parser, args):
    if not args.config and not args.resume:
        parser.error("give a config with -c FILE (see configs/) or --resume PREFIX")


def main(args):
    from .. import checkpoint, config

    resume = checkpoint.load_checkpoint(args.resume) if args.resume else None
    if resume:
        if args.config:
            print(f"note: --resume uses the config saved with {resume.prefix}; -c is ignored")
        cfg = config.from_dict(resume.meta["config"], args.overrides)
    else:
        cfg = config.load_config(args.config, args.overrides)
    from .. import engine  # paddle takes seconds to import: after the checks
    from ..reports import summary

    result = engine.train(cfg, resume=resume)
    print(summary.train_summary(result))
