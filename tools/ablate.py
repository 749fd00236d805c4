"""Train each variant of an ablation and compare them in a table and a bar chart.

    python tools/ablate.py -c configs/ablation.yml
    python tools/ablate.py -c configs/ablation.yml -o train.epochs=3 --out runs/ablation_short

The variants are the sweep.points of the file (base LeNet, + augmentation,
+ batch norm, + step decay and early stopping). Finished variants are
recorded in <folder>/results.jsonl and not retrained. Writes ablation.md and
ablation.png into the folder.
"""

import argparse

from paddle_mnist import cli


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_config_args(parser, config_required=True)
    parser.add_argument("--out", metavar="DIR",
                        help="ablation folder (default: the file's sweep.folder)")
    return parser.parse_args()


def main():
    args = parse_args()
    from paddle_mnist import sweep
    from paddle_mnist.distributed import is_main_process
    from paddle_mnist.errors import ConfigError
    from paddle_mnist.reports import experiments

    plan = sweep.plan(args.config, args.overrides, folder=args.out)
    if plan.keys:
        raise ConfigError(f"{args.config} holds a sweep.grid; run it with tools/sweep.py "
                          "(an ablation lists its variants under sweep.points)")
    records = sweep.run(plan)
    if not is_main_process():  # every rank trained; rank 0 writes the report
        return
    for path in experiments.write_ablation_report(plan, records):
        print(f"wrote {path}")


if __name__ == "__main__":
    cli.run(main)
