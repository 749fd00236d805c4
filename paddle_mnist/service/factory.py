"""Build the service's app from settings: `paddle-mnist serve` flags or environment.

`paddle-mnist serve` runs one process on waitress. For several processes on
Linux, gunicorn imports the same app:

    PADDLE_MNIST_MODEL=inference/mnist PADDLE_MNIST_DB=postgresql://app@db/mnist \\
        gunicorn -w 4 -b 0.0.0.0:8000 'paddle_mnist.service.factory:app_from_environment()'

(with PADDLE_MNIST_TOKEN set, as for any address beyond this machine).
"""

import os

from .auth import TOKEN_ENV

DEFAULT_DB = os.path.join("service", "records.db")


def build(model, db=DEFAULT_DB, backend="paddle", token=None, keep_originals=False,
          pool_size=8, poll_seconds=None, decode_slots=None):
    """(app, models, store) for an exported model and a record database: the app
    serves the registry's current version (`model` is registered as the first)."""
    from ..predictors import open_predictor
    from ..server import create_app
    from ..store import open_store
    from .models import POLL_SECONDS, follow_registry

    predictor = open_predictor(model, backend=backend)
    store = open_store(db, pool_size=pool_size)
    models = follow_registry(store, predictor, model, backend,
                             POLL_SECONDS if poll_seconds is None else poll_seconds)
    app = create_app(models, store, token=token, keep_originals=keep_originals,
                     decode_slots=decode_slots)
    return app, models, store


def app_from_environment():
    """The WSGI app for PADDLE_MNIST_MODEL, PADDLE_MNIST_DB, PADDLE_MNIST_BACKEND,
    PADDLE_MNIST_TOKEN and PADDLE_MNIST_KEEP_ORIGINALS=1 (for gunicorn)."""
    from ..errors import ConfigError

    model = os.environ.get("PADDLE_MNIST_MODEL")
    if not model:
        raise ConfigError("set PADDLE_MNIST_MODEL to the exported model prefix, "
                          "e.g. inference/mnist")
    app, _, _ = build(model, db=os.environ.get("PADDLE_MNIST_DB", DEFAULT_DB),
                      backend=os.environ.get("PADDLE_MNIST_BACKEND", "paddle"),
                      token=os.environ.get(TOKEN_ENV) or None,
                      keep_originals=os.environ.get("PADDLE_MNIST_KEEP_ORIGINALS") == "1")
    return app
