"""The recognition service around `paddle_mnist.server`'s app.

`recording` turns an answer into a stored record (one function for digits
and numbers), `records_api` serves records, labels, statistics and the
history page, `auth` guards them with a token when the server is reachable
from other machines, `i18n` picks the page's language, `answers` shapes JSON
errors with stable codes, `httpserver` runs the app on waitress and drains it
on SIGTERM, and `factory` builds the whole app from command-line or
environment settings (for `paddle-mnist serve` and for gunicorn).
"""
