"""Train each variant of an ablation and compare them in a table and a bar chart.

    python tools/ablate.py -c configs/ablation.yml
    python tools/ablate.py -c configs/ablation.yml -o train.epochs=3 --out runs/ablation_short

The variants are the sweep.points of the file (base LeNet, + augmentation,
+ batch norm, + step decay and early stopping). Finished variants are
recorded in <folder>/results.jsonl and not retrained. Writes ablation.md and
ablation.png into the folder.
"""

from .. import cli


def add_arguments(parser):
    cli.add_config_args(parser, config_required=True)
    parser.add_argument("--out", metavar="DIR",
                        help="ablation folder (default: the file's sweep.folder)")


def main(args):
    from .. import distributed, sweep
    from ..errors import ConfigError
    from ..reports import experiments

    plan = sweep.plan(args.config, args.overrides, folder=args.out)
    if plan.keys:
        raise ConfigError(f"{args.config} holds a sweep.grid; run it with tools/sweep.py "
                          "(an ablation lists its variants under sweep.points)")
    records = sweep.run(plan)
    if not distributed.is_main_process():  # every rank trained; rank 0 writes the report
        return
    for path in experiments.write_ablation_report(plan, records):
        print(f"wrote {path}")
