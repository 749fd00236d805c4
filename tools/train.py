"""Train a network on MNIST with paddle.Model.fit, logging to VisualDL.

    python tools/train.py -c configs/lenet.yml
    python tools/train.py -c configs/lenet.yml -o train.epochs=1 -o optimizer.learning_rate=0.01
    python tools/train.py --resume output/mnist      # continue an interrupted run
"""

import argparse

from paddle_mnist import cli


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_config_args(parser)
    parser.add_argument("--resume", metavar="PREFIX",
                        help="continue the run saved at this checkpoint prefix (its saved "
                             "config is used; -o still applies), e.g. output/mnist")
    args = parser.parse_args()
    if not args.config and not args.resume:
        parser.error("give a config with -c FILE (see configs/) or --resume PREFIX")
    return args


def main():
    args = parse_args()
    from paddle_mnist import checkpoint, config

    resume = checkpoint.load_checkpoint(args.resume) if args.resume else None
    if resume:
        if args.config:
            print(f"note: --resume uses the config saved with {resume.prefix}; -c is ignored")
        cfg = config.from_dict(resume.meta["config"], args.overrides)
    else:
        cfg = config.load_config(args.config, args.overrides)
    from paddle_mnist import engine, report  # paddle takes seconds to import: after the checks

    result = engine.train(cfg, resume=resume)
    print(report.train_summary(result))


if __name__ == "__main__":
    cli.run(main)
