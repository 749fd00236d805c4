"""Plot training curves (loss and accuracy per epoch) of one or more runs.

    python tools/plot.py                                   # every VisualDL run under logs/
    python tools/plot.py output/mnist runs/bn/mnist -o curves.png   # checkpoint sidecars
    python tools/plot.py logs/lenet-20250101-120000 --title "LeNet, 5 epochs"

Train curves are solid, validation/test curves dashed, one colour per run;
over-fitting shows as train accuracy rising while evaluation loss rises.
"""


def add_arguments(parser):
    parser.add_argument("sources", nargs="*", default=["logs"], metavar="RUN",
                        help="checkpoint prefix (reads its .meta.json history) or VisualDL "
                             "log folder (every run below it); default: logs")
    parser.add_argument("-o", "--out", default="curves.png", metavar="PNG",
                        help="image to write (default: curves.png)")
    parser.add_argument("--title", default="Training curves", help="figure title")


def main(args):
    from ..reports import curves, figures

    runs = curves.load_runs(args.sources)
    empty = [run.name for run in runs if not run.series("eval_acc")]
    if empty:
        print(f"note: no finished epoch yet in {', '.join(empty)}")
    figures.curves_png(runs, args.out, args.title)
    for run in runs:
        last = run.series("eval_acc")[-1:] or [(0, float("nan"))]
        print(f"{run.name}: {len(run.series('eval_acc'))} epochs, last {run.eval_split} "
              f"accuracy {last[0][1]:.2%}")
    print(f"wrote {args.out}")
