"""Fine-tune a checkpoint at a lower learning rate into a new checkpoint.

    python tools/finetune.py --resume output/mnist            # Adam 1e-3 -> 1e-4, 2 epochs
    python tools/finetune.py --resume output/mnist --lr 5e-5 --epochs 3
    python tools/finetune.py --resume output/mnist --skip-mismatch -o model.args.num_classes=11
    python tools/finetune.py --resume output/mnist --extra-data my_digits/   # + your own images
    python tools/finetune.py --resume output/mnist --extra-data service/records.db
"""

from .. import cli


def add_arguments(parser):
    parser.add_argument("--resume", required=True, metavar="PREFIX",
                        help="checkpoint to start from, e.g. output/mnist (left untouched)")
    parser.add_argument("--lr", type=float, metavar="RATE",
                        help="learning rate (default: one tenth of the checkpoint's)")
    parser.add_argument("--epochs", type=int, metavar="N", help="epochs to train (default: 2)")
    parser.add_argument("--output", metavar="PREFIX",
                        help="checkpoint prefix to write (default: <resume prefix>_finetune)")
    parser.add_argument("--extra-data", action="append", default=[], metavar="DIR_OR_DB",
                        help="also train on labelled images: a folder (sub-folders per digit, "
                             "*_<label> names or a manifest.csv) or the service's record "
                             "database (a SQLite file or postgresql://...); each gets "
                             "--extra-share of every batch, MNIST the rest (repeatable)")
    parser.add_argument("--extra-share", type=float, default=0.25, metavar="FRACTION",
                        help="share of every batch from each --extra-data source (default 0.25)")
    parser.add_argument("--skip-mismatch", action="store_true",
                        help="load only parameters whose name and shape fit the network "
                             "(e.g. a new head after -o model.args.num_classes=N)")
    cli.add_config_args(parser)


def check(parser, args):
    if args.config:
        parser.error("-c is not used: the config saved with the checkpoint is; use -o to change it")


def main(args):
    from .. import finetune
    from ..reports import summary

    job = finetune.plan(args.resume, lr=args.lr, epochs=args.epochs, output=args.output,
                        skip_mismatch=args.skip_mismatch, overrides=args.overrides,
                        extra_data=args.extra_data, extra_share=args.extra_share)
    print(summary.finetune_start(job))
    before = job.evaluate_before()
    print(f"test accuracy before fine-tuning: {before['acc']:.2%} (loss {before['loss']:.4f})")
    result = job.run()
    print(f"test accuracy after fine-tuning:  {result.test['acc']:.2%} "
          f"(loss {result.test['loss']:.4f}; before {before['acc']:.2%})")
    print(summary.train_summary(result))
