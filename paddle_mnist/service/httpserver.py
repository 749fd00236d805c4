"""Run the WSGI app on waitress, a production server that also runs on Windows.

Two things are added to plain `waitress.serve`:
- Errors waitress answers itself, before the app sees the request (a body
  over the limit, chunked or declared; a malformed request; headers too
  large), get the app's JSON error shape and security headers instead of
  waitress's text page. Waitress stops reading a body at
  `max_request_body_size`, so an oversized chunked upload is cut there.
- SIGTERM (kill, systemd, docker stop) and Ctrl-C stop the server gently:
  the listening sockets close (new connections are refused), requests already
  received are finished and their answers sent, for at most `drain_seconds`,
  then the process exits 0. A second Ctrl-C stops at once.
"""

import json
import signal
import socket
import threading
import time

from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, create_server
from waitress.task import ErrorTask

from ..errors import UserError
from .answers import error_body

DRAIN_SECONDS = 20
POLL_SECONDS = 0.2


def json_channel(too_large_message, headers):
    """An HTTPChannel class whose own error answers are the app's JSON errors."""

    class JsonErrorTask(ErrorTask):
        def execute(self):
            error = self.request.error
            message = too_large_message if error.code == 413 else \
                f"{error.reason}: {error.body}"
            body = json.dumps(error_body(error.code, message)).encode("utf-8")
            self.status = f"{error.code} {error.reason}"
            self.response_headers.extend([("Content-Type", "application/json"),
                                          *headers.items()])
            self.set_close_on_finish()
            self.content_length = len(body)
            self.write(body)

    class JsonErrorChannel(HTTPChannel):
        error_task_class = JsonErrorTask

    return JsonErrorChannel


def busy(channel):
    """A request is being received, run or answered on this connection."""
    return bool(channel.requests or channel.total_outbufs_len or channel.request is not None)


class Server:
    """Waitress on (host, port) with `threads` worker threads; `run()` blocks."""

    def __init__(self, app, host, port, *, threads, max_body_bytes, too_large_message,
                 headers, drain_seconds=DRAIN_SECONDS):
        self.map = {}
        self.stopping = threading.Event()
        self.drain_seconds = drain_seconds
        try:
            self.server = create_server(
                app, map=self.map, host=host, port=port, threads=threads,
                # waitress refuses bodies of at least this many bytes
                max_request_body_size=max_body_bytes + 1, ident="paddle-mnist",
                clear_untrusted_proxy_headers=True)
        except socket.gaierror as err:
            raise UserError(f"cannot listen on --host {host}: {err.strerror}") from None
        except OSError as err:
            if "in use" in str(err):
                raise UserError(f"Port {port} is in use by another program; choose another "
                                "--port (0 picks a free one)") from None
            raise UserError(f"cannot listen on {host}:{port}: {err.strerror or err}") from None
        channel = json_channel(too_large_message, headers)
        for listener in self.listeners():
            listener.channel_class = channel

    def listeners(self):
        return [item for item in list(self.map.values()) if isinstance(item, BaseWSGIServer)]

    @property
    def addresses(self):
        """(host, port) of every listening socket."""
        return [(listener.effective_host, listener.effective_port)
                for listener in self.listeners()]

    def stop(self, *_):
        if self.stopping.is_set():
            raise KeyboardInterrupt  # the second Ctrl-C: no more waiting
        self.stopping.set()

    def run(self):
        previous = {sig: signal.signal(sig, self.stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            while not self.stopping.is_set():
                wasyncore.loop(timeout=POLL_SECONDS, map=self.map, use_poll=True, count=1)
            return self.drain()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.close()

    def drain(self):
        """Stop accepting, finish what is in flight; returns the requests left unfinished."""
        for listener in self.listeners():
            # the socket only: the server's own close() also shuts the trigger
            # that wakes this loop when a worker thread has an answer to send
            wasyncore.dispatcher.close(listener)
        deadline = time.monotonic() + self.drain_seconds
        while time.monotonic() < deadline:
            pending = [ch for ch in self.map.values() if isinstance(ch, HTTPChannel) and busy(ch)]
            if not pending:
                return 0
            wasyncore.loop(timeout=0.05, map=self.map, use_poll=True, count=1)
        return len(pending)

    def close(self):
        for item in list(self.map.values()):
            item.close()
        self.server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
