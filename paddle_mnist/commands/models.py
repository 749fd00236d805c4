"""The model registry of a record database: list, register, promote, roll back.

    python tools/models.py list --db service/records.db
    python tools/models.py promote 3 --db service/records.db     # every server switches to it
    python tools/models.py rollback --db service/records.db      # back to the one before
    python tools/models.py register inference/mnist --db service/records.db   # as a candidate
"""


def add_arguments(parser):
    actions = parser.add_subparsers(dest="action", required=True,
                                    metavar="{list,register,promote,rollback}")
    listing = actions.add_parser("list", help="every version, newest first")
    promote = actions.add_parser("promote", help="make a version current")
    promote.add_argument("id", type=int, help="the version's id (see list)")
    rollback = actions.add_parser("rollback", help="make the version before the current one "
                                                   "current again")
    register = actions.add_parser("register", help="add an export as a candidate version")
    register.add_argument("prefix", metavar="PREFIX",
                          help="exported model prefix (tools/export.py), e.g. inference/mnist")
    for action in (listing, promote, rollback, register):
        action.add_argument("--db", required=True, metavar="URL",
                            help="the service's record database (a SQLite file or "
                                 "postgresql://...)")


def main(args):
    from ..reports import summary
    from ..store import open_store
    from ..store.registry import Registry

    store = open_store(args.db, pool_size=1)
    try:
        registry = Registry(store)
        if args.action == "list":
            print(summary.versions_table(registry.versions()))
        elif args.action == "promote":
            print(f"version {registry.promote(args.id).id} is current; servers on "
                  f"{store.name} switch to it within their --poll interval")
        elif args.action == "rollback":
            retired, current = registry.rollback()
            print(f"rolled back: version {current.id} is current again (version {retired.id} "
                  "retired)")
        else:
            print(f"registered {args.prefix} as version {_register(registry, args.prefix)} "
                  "(candidate); promote it with: paddle-mnist models promote ID --db ...")
    finally:
        store.close()


def _register(registry, prefix):
    from ..exported import model_prefix, read_spec
    from ..service.models import exported_files
    from ..service.recording import model_version

    prefix = model_prefix(prefix)
    spec = read_spec(prefix)
    return registry.add(spec=spec.to_json(), files=exported_files(prefix, spec),
                        version=model_version(spec), model_name=spec.model,
                        source_checkpoint=spec.source)
