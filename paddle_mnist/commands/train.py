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
    from ..planning import plan

    if args.resume and args.config:
        print("note: --resume uses the config saved with the checkpoint; -c is ignored")
    run = plan(args.config, args.overrides, resume=args.resume)
    from .. import engine  # paddle takes seconds to import: after the checks
    from ..reports import summary

    print(summary.train_summary(engine.train(run)))
