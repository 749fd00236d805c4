"""Fine-tune a checkpoint at a lower learning rate into a new checkpoint.

    python tools/finetune.py --resume output/mnist            # Adam 1e-3 -> 1e-4, 2 epochs
    python tools/finetune.py --resume output/mnist --lr 5e-5 --epochs 3
    python tools/finetune.py --resume output/mnist --skip-mismatch -o model.args.num_classes=11
"""

import argparse

from paddle_mnist import cli


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resume", required=True, metavar="PREFIX",
                        help="checkpoint to start from, e.g. output/mnist (left untouched)")
    parser.add_argument("--lr", type=float, metavar="RATE",
                        help="learning rate (default: one tenth of the checkpoint's)")
    parser.add_argument("--epochs", type=int, metavar="N", help="epochs to train (default: 2)")
    parser.add_argument("--output", metavar="PREFIX",
                        help="checkpoint prefix to write (default: <resume prefix>_finetune)")
    parser.add_argument("--skip-mismatch", action="store_true",
                        help="load only parameters whose name and shape fit the network "
                             "(e.g. a new head after -o model.args.num_classes=N)")
    cli.add_config_args(parser)
    args = parser.parse_args()
    if args.config:
        parser.error("-c is not used: the config saved with the checkpoint is; use -o to change it")
    return args


def main():
    args = parse_args()
    from paddle_mnist import finetune, report

    job = finetune.plan(args.resume, lr=args.lr, epochs=args.epochs, output=args.output,
                        skip_mismatch=args.skip_mismatch, overrides=args.overrides)
    if job.skipped:
        print(f"skipped {len(job.skipped)} mismatched parameter(s), left freshly "
              f"initialised: {', '.join(job.skipped)}")
    print(f"fine-tuning {job.source} (epoch {job.source_epoch}) for {job.config.train.epochs} "
          f"epochs at learning rate {job.lr:g} (checkpoint's: {job.source_lr:g}) "
          f"-> {job.config.output.checkpoint}")
    before = job.evaluate_before()
    print(f"test accuracy before fine-tuning: {before['acc']:.2%} (loss {before['loss']:.4f})")
    result = job.run()
    print(f"test accuracy after fine-tuning:  {result.test['acc']:.2%} "
          f"(loss {result.test['loss']:.4f}; before {before['acc']:.2%})")
    print(report.train_summary(result))


if __name__ == "__main__":
    cli.run(main)
