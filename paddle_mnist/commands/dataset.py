"""Export or count the labelled samples the recognition service has collected.

    python tools/dataset.py stats --db service/records.db
    python tools/dataset.py export --db postgresql://app@dbhost/mnist --out data/labelled
"""


def add_arguments(parser):
    actions = parser.add_subparsers(dest="action", required=True, metavar="{export,stats}")
    export = actions.add_parser("export", help="write the labelled samples as a folder per "
                                               "class of 28x28 PNGs plus manifest.csv")
    stats = actions.add_parser("stats", help="print how many records there are, labelled, "
                                             "wrong, and per class")
    for action in (export, stats):
        action.add_argument("--db", required=True, metavar="URL",
                            help="the service's record database: a SQLite file such as "
                                 "service/records.db or postgresql://user@host/dbname")
        action.add_argument("--json", action="store_true", help="print one JSON document")
    export.add_argument("--out", required=True, metavar="DIR",
                        help="new (or empty) folder to write <label>/<record>.png and "
                             "manifest.csv into")


def main(args):
    import json
    import os

    from ..errors import UserError
    from ..store import open_store

    if "://" not in args.db and not os.path.isfile(args.db):
        raise UserError(f"no record database at {args.db}; give the file tools/serve.py "
                        "--db wrote (default service/records.db) or a postgresql:// URL")
    store = open_store(args.db, pool_size=1)
    try:
        if args.action == "export":
            from ..service.dataset import export

            summary = export(store, args.out)
            if args.json:
                print(json.dumps(summary))
            else:
                print(f"wrote {summary['files']} images from {summary['records']} labelled "
                      f"records to {args.out} (manifest: {os.path.join(args.out, 'manifest.csv')})")
                if summary["skipped"]:
                    print(f"skipped {summary['skipped']} number records whose label does not "
                          "have one digit per image")
                print("per class: " + ", ".join(f"{k}: {v}" for k, v in
                                                 summary["per_class"].items()))
            return
        counts = counts_of(store)
        print(json.dumps(counts) if args.json else
              f"{counts['records']} records, {counts['labelled']} labelled, {counts['wrong']} "
              "of them answered wrong\nlabelled per class: " +
              (", ".join(f"{k}: {v}" for k, v in counts["per_class"].items()) or "none"))
    finally:
        store.close()


def counts_of(store):
    per_class = {}
    for record in store.labelled_records():
        if record["kind"] == "digit":
            per_class[record["label"]] = per_class.get(record["label"], 0) + 1
    stats = store.stats(model_version=None)
    return {"records": stats["records"], "labelled": stats["labelled"], "wrong": stats["wrong"],
            "per_class": dict(sorted(per_class.items()))}
