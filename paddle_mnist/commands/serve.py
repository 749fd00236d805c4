"""Serve the web demo and the HTTP API for an exported model.

    python tools/serve.py --model inference/mnist
    python tools/serve.py --model inference/mnist --port 8080 --backend onnx

Open the printed URL to draw or upload a digit; programs POST an image to
/api/predict. Werkzeug's threaded server is meant for a local demo, not for
exposure to the internet: it binds to 127.0.0.1 unless --host says otherwise.
"""


def add_arguments(parser):
    parser.add_argument("--model", required=True, metavar="PREFIX",
                        help="exported model prefix (tools/export.py), e.g. inference/mnist; "
                             "a checkpoint prefix such as output/mnist also works")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default: 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=8000,
                        help="TCP port (default: 8000; 0 picks a free one)")
    parser.add_argument("--backend", choices=("paddle", "onnx"), default="paddle",
                        help="run the exported model with Paddle Inference or ONNX Runtime")


def check(parser, args):
    if not 0 <= args.port <= 65535:
        parser.error(f"--port {args.port} is not a TCP port (0-65535)")


def main(args):
    import os
    import signal
    import sys

    # Requests already run in parallel threads; OpenBLAS threads on top of them
    # fight for the same cores (preprocessing's least-squares fit ran 3x slower).
    # Must be set before numpy loads.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from werkzeug.serving import make_server

    from ..predictors import open_predictor
    from ..server import create_app

    predictor = open_predictor(args.model, backend=args.backend)
    app = create_app(predictor)
    # binds now, so the URL below is live; a port in use or an unknown host is
    # reported by werkzeug itself in plain words, with exit status 1
    server = make_server(args.host, args.port, app, threaded=True)
    host = server.server_address[0]
    shown = f"[{host}]" if ":" in host else host
    # paddle's own SIGTERM handler reports a "FatalError"; for a server, SIGTERM
    # (kill, systemd, docker stop) is the normal way to stop, so exit cleanly
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    print(f"serving {predictor.spec.model} ({args.backend}) from {args.model} at "
          f"http://{shown}:{server.server_port}/  (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
