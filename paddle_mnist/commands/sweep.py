"""Train one run per point of a grid over config keys, and tabulate them.

    python tools/sweep.py -c configs/sweep_lr_momentum.yml
    python tools/sweep.py -c configs/lenet.yml --grid optimizer.learning_rate=0.01,0.001
    python tools/sweep.py -c configs/sweep_lr_momentum.yml -o train.epochs=2 --out runs/sweep2

Each point gets its own checkpoint and VisualDL run under the sweep folder;
finished points are recorded in <folder>/results.jsonl and skipped when the
same command runs again. Writes sweep.md, sweep.csv and heatmap.png there.
"""

from .. import cli


def add_arguments(parser):
    cli.add_config_args(parser, config_required=True)
    parser.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2",
                        help="sweep this key over these values (repeatable; replaces the "
                             "file's sweep.grid), e.g. --grid optimizer.momentum=0.1,0.9")
    parser.add_argument("--out", metavar="DIR",
                        help="sweep folder (default: the file's sweep.folder, else runs/<name>)")


def main(args):
    from .. import distributed, sweep
    from ..reports import experiments

    plan = sweep.plan(args.config, args.overrides, args.grid, args.out)
    if not plan.keys:
        print("note: this file lists named points; tools/ablate.py tabulates those as an ablation")
    records = sweep.run(plan)
    if not distributed.is_main_process():  # every rank trained; rank 0 writes the report
        return
    for path in experiments.write_sweep_report(plan, records):
        print(f"wrote {path}")
    diverged = sum(r["diverged"] for r in records)
    print(f"{len(records)} points, {diverged} diverged; "
          f"VisualDL: visualdl --logdir {plan.folder}/logs")
