"""Tabulate trained checkpoints: network, parameters, test accuracy, time, command.

    python tools/results.py runs/*/mnist                     # Markdown table on stdout
    python tools/results.py runs/*/mnist --out docs/results_table.md
    python tools/results.py runs/*/mnist --update docs/results.md

Each row sits next to the number the material reports for that network (the
`reference` section of its config) and the command that reproduces the
checkpoint. --update rewrites the block after the `<!-- results table ... -->`
line of a document (up to `<!-- end results table -->`).
"""


def add_arguments(parser):
    parser.add_argument("prefixes", nargs="+", metavar="PREFIX",
                        help="checkpoint prefixes written by tools/train.py or tools/finetune.py")
    parser.add_argument("--out", metavar="FILE", help="write the table to FILE")
    parser.add_argument("--update", metavar="DOC", help="put the table into DOC at its marker")
    parser.add_argument("--configs", default="configs", metavar="DIR",
                        help="folder of the config files the runs were made from")


def main(args):
    from ..errors import ConfigError
    from ..reports import results, tables

    table = results.results_table(args.prefixes, args.configs)
    if args.out:
        print(f"wrote {tables.write_text(args.out, table)}")
    if args.update:
        with open(args.update, encoding="utf-8") as f:
            updated = results.replace_block(f.read(), table)
        if updated is None:
            raise ConfigError(f"{args.update} has no '<!-- results table' line to put the table at")
        print(f"updated {tables.write_text(args.update, updated)}")
    if not args.out and not args.update:
        print(table, end="")
