"""Serve the web page and the HTTP API for an exported model, keeping a record of each answer.

    python tools/serve.py --model inference/mnist                      # records in service/records.db
    python tools/serve.py --model inference/mnist --db postgresql://app@dbhost/mnist
    python tools/serve.py --model inference/mnist --host 0.0.0.0 --token "$TOKEN"

Open the printed URL to draw or upload a digit and correct the answer; programs
POST an image to /api/predict. Runs on waitress with --threads worker threads.
It binds to 127.0.0.1 unless --host says otherwise; on any other address the
records need a token (--token or PADDLE_MNIST_TOKEN).
"""

import os

from ..service.decoding import DECODE_SLOTS, DECODE_WAIT_SECONDS


def add_arguments(parser):
    parser.add_argument("--model", required=True, metavar="PREFIX",
                        help="exported model prefix (tools/export.py), e.g. inference/mnist; "
                             "a checkpoint prefix such as output/mnist also works")
    parser.add_argument("--db", default=os.path.join("service", "records.db"), metavar="URL",
                        help="where records are kept: a SQLite file (default: "
                             "service/records.db, created if missing) or "
                             "postgresql://user@host/dbname, which several servers can share")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default: 127.0.0.1, this machine only; "
                             "any other address needs --token)")
    parser.add_argument("--port", type=int, default=8000,
                        help="TCP port (default: 8000; 0 picks a free one)")
    parser.add_argument("--backend", choices=("paddle", "onnx"), default="paddle",
                        help="run the exported model with Paddle Inference or ONNX Runtime")
    parser.add_argument("--threads", type=int, default=8,
                        help="worker threads answering requests (default: 8); also the "
                             "size of the database connection pool")
    parser.add_argument("--decode-slots", type=int, default=DECODE_SLOTS, metavar="N",
                        help=f"uploads decoded at once (default: {DECODE_SLOTS}, one per core, "
                             "at least 2); each may take ~240 MB for a 16-megapixel PNG, "
                             "so this bounds the server's memory")
    parser.add_argument("--decode-wait", type=float, default=DECODE_WAIT_SECONDS,
                        metavar="SECONDS",
                        help="how long a request waits for a free decode slot before it is "
                             f"answered 503 busy (default: {DECODE_WAIT_SECONDS:g})")
    parser.add_argument("--token", default=os.environ.get("PADDLE_MNIST_TOKEN") or None,
                        help="token that the records, labels, statistics and history need "
                             "(default: $PADDLE_MNIST_TOKEN); required with a --host other "
                             "than 127.0.0.1/localhost")
    parser.add_argument("--poll", type=float, default=5.0, metavar="SECONDS",
                        help="how often the server checks the model registry for a newly "
                             "promoted version to switch to (default: 5)")
    parser.add_argument("--keep-originals", action="store_true",
                        help="also store each uploaded file (up to 1 MiB) with its record; "
                             "off by default, since users' pictures are theirs")


def check(parser, args):
    if not 0 <= args.port <= 65535:
        parser.error(f"--port {args.port} is not a TCP port (0-65535)")
    if not 1 <= args.threads <= 256:
        parser.error(f"--threads {args.threads} must be from 1 to 256")
    if not 1 <= args.decode_slots <= 64:
        parser.error(f"--decode-slots {args.decode_slots} must be from 1 to 64")
    if not 0 <= args.decode_wait <= 60:
        parser.error(f"--decode-wait {args.decode_wait:g} must be from 0 to 60 seconds")
    if not 0.1 <= args.poll <= 3600:
        parser.error(f"--poll {args.poll:g} must be from 0.1 to 3600 seconds")


def main(args):
    # Requests already run in parallel threads; OpenBLAS threads on top of them
    # fight for the same cores (preprocessing's least-squares fit ran 3x slower).
    # Must be set before numpy loads.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from ..server import SECURITY_HEADERS, too_large_message
    from ..service import factory
    from ..service.auth import check_token
    from ..service.decoding import DecodeSlots
    from ..service.httpserver import Server

    token = check_token(args.host, args.token)
    app, models, store = factory.build(args.model, db=args.db, backend=args.backend,
                                       token=token, keep_originals=args.keep_originals,
                                       pool_size=args.threads, poll_seconds=args.poll,
                                       decode_slots=DecodeSlots(args.decode_slots,
                                                                args.decode_wait))
    live = models.current()
    limit = app.config["MAX_CONTENT_LENGTH"]
    server = Server(app, args.host, args.port, threads=args.threads, max_body_bytes=limit,
                    too_large_message=too_large_message(limit), headers=SECURITY_HEADERS)
    host, port = server.addresses[0]
    shown = f"[{host}]" if ":" in host else host
    version = (f"model version {live.version_id}" if live.version_id is not None
               else f"from {args.model}")
    print(f"serving {live.spec.model} ({args.backend}, {version}) at http://{shown}:{port}/  "
          f"(records: {store.name}; waitress, {args.threads} threads; Ctrl-C to stop)",
          flush=True)
    try:
        unfinished = server.run()
    finally:
        models.close()
        store.close()
    print("stopped" + (f"; {unfinished} requests were still unfinished" if unfinished else ""),
          flush=True)
