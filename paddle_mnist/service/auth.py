"""Who may read the records and label them.

On a loopback address only this machine's users reach the server, so no
token is needed. Bound anywhere else, the records, labels, statistics and the
history page need the token (`--token` or PADDLE_MNIST_TOKEN), and the server
refuses to start without one; predictions stay open. Programs send
`Authorization: Bearer TOKEN`; the pages exchange it once for an HttpOnly,
SameSite=Strict cookie (POST /api/session), which other sites cannot make the
browser send, and label only with JSON bodies, which a cross-site form cannot
post.
"""

import functools
import hmac
import ipaddress

from flask import request

from ..errors import ConfigError

COOKIE = "paddle_mnist_token"
TOKEN_ENV = "PADDLE_MNIST_TOKEN"
MIN_TOKEN_LENGTH = 16


def is_loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may well resolve beyond this machine


def check_token(host, token):
    """The token to require, or None on loopback without one; ConfigError when
    the server would expose records without a token, or with a guessable one."""
    if token is not None and len(token) < MIN_TOKEN_LENGTH:
        raise ConfigError(f"the token must be at least {MIN_TOKEN_LENGTH} characters; make "
                          "one with: python -c \"import secrets; print(secrets.token_urlsafe())\"")
    if token is None and not is_loopback(host):
        raise ConfigError(f"--host {host} lets other machines read and label the records; "
                          f"set a token with --token or {TOKEN_ENV} (clients send "
                          "'Authorization: Bearer TOKEN'), or listen on 127.0.0.1")
    return token


class Guard:
    def __init__(self, token):
        self.token = token

    def allows(self, presented):
        return self.token is None or (
            presented is not None
            and hmac.compare_digest(presented.encode("utf-8"), self.token.encode("utf-8")))

    def authorized(self):
        header = request.headers.get("Authorization", "")
        bearer = header[7:].strip() if header[:7].lower() == "bearer " else None
        return self.allows(bearer) or self.allows(request.cookies.get(COOKIE))

    def protect(self, denied):
        """Decorator: run the view only for an authorized request, else `denied()`."""
        def decorate(view):
            @functools.wraps(view)
            def guarded(*args, **kwargs):
                return view(*args, **kwargs) if self.authorized() else denied()
            return guarded
        return decorate
