"""Authentication as Mesos 1.11 and Marathon 1.11 check it, so that the lab meets their refusals.

Mesos (3rdparty/libprocess/src/authenticator.cpp, src/credentials/credentials.hpp): each HTTP
endpoint belongs to a realm (mesos-master-readonly, mesos-master-readwrite, mesos-agent-...), and
a realm whose --authenticate_http_* flag is on wants `Authorization: Basic` with a principal and
secret of the credentials file; anything else is 401 with `WWW-Authenticate: Basic realm="<realm>"`.
Frameworks and agents authenticate with CRAM-MD5 over libprocess in Mesos; on the stand-in's own
wire (POST /standin/frameworks, /standin/agents) the same principal and secret travel as Basic.

Marathon (api/HttpModule.scala on Jetty 9.4.8): --http_credentials `user:password` puts Basic on
every path; a value that does not match its pattern only logs an error and Marathon runs open.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import html
import json
import logging
import re
from typing import Any

from . import web


class CredentialsError(ValueError):
    """A credentials file the daemon refuses at start-up; the message is Mesos'."""


def _read(path: str, kind: str, flag: str) -> str:
    try:
        with open(path, encoding="utf-8") as source:
            return source.read()
    except OSError as ex:
        raise CredentialsError(f"Failed to read {kind} file '{path}': {ex.strerror} (see --{flag} flag)") from None


def _json_object(text: str) -> dict | None:
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _credential(entry: Any) -> tuple[str, str] | None:
    """A Credential message from JSON: principal required, secret optional (mesos.proto)."""
    if not isinstance(entry, dict) or not isinstance(entry.get("principal"), str):
        return None
    secret = entry.get("secret", "")
    return (entry["principal"], secret) if isinstance(secret, str) else None


def read_credentials(path: str, flag: str) -> dict[str, str]:
    """principal -> secret of a --credentials or --http_credentials file, as credentials::read reads it:
    JSON {"credentials": [...]}, else the deprecated text form, one `principal secret` a line."""
    text = _read(path, "credentials", flag)
    if not text.strip():
        raise CredentialsError(f"Credentials file must contain at least one credential (see --{flag} flag)")
    document = _json_object(text)
    if document is not None and isinstance(document.get("credentials", []), list):
        entries = [_credential(entry) for entry in document.get("credentials", [])]
        if all(entries):
            return dict(entries)  # type: ignore[arg-type]
    credentials = {}
    for line in filter(None, text.split("\n")):
        pair = [token for token in line.split(" ") if token]
        if len(pair) != 2:
            raise CredentialsError(f"Invalid credential format at line {len(credentials) + 1} (see --{flag} flag)")
        credentials[pair[0]] = pair[1]
    return credentials


def read_credential(path: str) -> tuple[str, str]:
    """The agent's --credential: JSON {"principal", "secret"}, else one `principal secret` line."""
    text = _read(path, "credential", "credential")
    if not text:
        raise CredentialsError(f"Empty credential file '{path}' (see --credential flag)")
    credential = _credential(_json_object(text))
    if credential:
        return credential
    lines = [line for line in text.split("\n") if line]
    if len(lines) != 1:
        raise CredentialsError("Expecting only one credential (see --credential flag)")
    pair = [token for token in lines[0].split(" ") if token]
    if len(pair) != 2:
        raise CredentialsError("Invalid credential format (see --credential flag)")
    return pair[0], pair[1]


def basic(principal: str, secret: str) -> dict[str, str]:
    """The header a client sends: Authorization: Basic base64(principal:secret)."""
    token = base64.b64encode(f"{principal}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _basic_payload(request: web.Request) -> bytes | None:
    """The decoded user:password of a Mesos-style `Basic <base64>` header, or None."""
    components = request.headers.get("authorization", "").split(" ")
    if len(components) != 2 or components[0] != "Basic":
        return None
    try:
        return base64.b64decode(components[1], validate=True)
    except (binascii.Error, ValueError):
        return None


def registration_pair(request: web.Request) -> tuple[str, str] | None:
    """principal, secret a framework or agent offers on the stand-in's wire (CRAM-MD5 in Mesos, where
    a secret may hold ':'), or None when it offers nothing readable."""
    payload = _basic_payload(request)
    if payload is None or b":" not in payload:
        return None
    principal, _, secret = payload.decode("utf-8", errors="replace").partition(":")
    return principal, secret


def matches(credentials: dict[str, str], principal: str, secret: str) -> bool:
    known = credentials.get(principal)
    return known is not None and hmac.compare_digest(known.encode(), secret.encode())


def http_principal(request: web.Request, credentials: dict[str, str]) -> str | None:
    """The principal of a Mesos HTTP request, by libprocess' BasicAuthenticator: exactly one ':'."""
    payload = _basic_payload(request)
    if payload is None:
        return None
    parts = payload.decode("utf-8", errors="replace").split(":")
    if len(parts) != 2 or not matches(credentials, parts[0], parts[1]):
        return None
    return parts[0]


class HttpAuthentication:
    """Which of a Mesos daemon's endpoints want credentials: those of each realm whose flag is on."""

    def __init__(
        self, daemon: str, flags: dict[str, Any], credentials: dict[str, str] | None, realms: dict[str, set[str]]
    ) -> None:
        self.credentials = credentials or {}
        # endpoint -> realm, e.g. "/state" -> "mesos-master-readonly" under --authenticate_http_readonly.
        self.realm_of = {
            endpoint: f"{daemon}-{kind}"
            for kind, endpoints in realms.items()
            if flags.get(f"authenticate_http_{kind}")
            for endpoint in endpoints
        }

    def refusal(self, request: web.Request, endpoint: str) -> web.Response | None:
        """libprocess' 401 for a request to a protected endpoint without valid credentials, else None."""
        realm = self.realm_of.get(endpoint)
        if realm is None or http_principal(request, self.credentials):
            return None
        return web.Response(401, "401 Unauthorized.", {"WWW-Authenticate": f'Basic realm="{realm}"'})

    def principal(self, request: web.Request, endpoint: str) -> str | None:
        """The principal a request authenticated as: only on an endpoint whose realm authenticates, as in
        libprocess; None elsewhere (the authorizer then sees ANY)."""
        return http_principal(request, self.credentials) if endpoint in self.realm_of else None


def http_auth_error(daemon: str, flags: dict[str, Any], credentials: dict[str, str] | None) -> str | None:
    """Mesos' start-up refusal of HTTP authentication without credentials (readonly is checked first)."""
    for kind in ("readonly", "readwrite"):
        if flags.get(f"authenticate_http_{kind}") and credentials is None:
            return f"No credentials provided for the default 'basic' HTTP authenticator for realm '{daemon}-{kind}'"
    return None


def user_token(launch_token: str, user: str) -> str:
    """The token to launch tasks as `user` on the agent whose launch token it is. The master derives it
    and hands it only to a framework --acls allows to run tasks as that user; the agent checks it."""
    return hmac.new(launch_token.encode(), f"run tasks as {user}".encode(), hashlib.sha256).hexdigest()


def bearer_matches(request: web.Request, token: str) -> bool:
    """Whether the request carries `Authorization: Bearer <token>` (the stand-in's launch token)."""
    scheme, _, offered = request.headers.get("authorization", "").partition(" ")
    return scheme == "Bearer" and hmac.compare_digest(offered.encode(), token.encode())


# ---------------------------------------------------------------------------- Marathon
# HttpModule.createSecurityHandler: the Scala regex "(.+):(.+)" must match the whole value; Java's
# '.' stops at line terminators, and the greedy user takes everything up to the last ':'.
_NOT_EOL = "[^\n\r\u0085\u2028\u2029]"
MARATHON_CREDENTIALS = re.compile(f"({_NOT_EOL}+):({_NOT_EOL}+)")
MARATHON_CREDENTIALS_ERROR = "The HTTP credentials must be specified in the form of 'user:password'."
# Jetty's BasicAuthenticator names the realm after its login service, and Marathon 1.11's
# HashLoginService has no name: the challenge says "null" whatever --http_realm says.
MARATHON_CHALLENGE = 'basic realm="null"'


def marathon_http_credentials(value: str | None) -> tuple[str, str] | None:
    """(user, password) of --http_credentials; ValueError for a value Marathon ignores (it runs open)."""
    if value is None:
        return None
    match = MARATHON_CREDENTIALS.fullmatch(value)
    if not match:
        raise ValueError(MARATHON_CREDENTIALS_ERROR)
    return match.group(1), match.group(2)


def marathon_authenticated(request: web.Request, user: str, password: str) -> bool:
    """Jetty's check: scheme `basic` in any case, ISO-8859-1 payload split at its first ':'."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        payload = base64.b64decode(encoded.strip()).decode("iso-8859-1")
    except (binascii.Error, ValueError):
        return False
    offered_user, colon, offered_password = payload.partition(":")
    return (
        bool(colon and offered_user)
        and offered_user == user
        and hmac.compare_digest(offered_password.encode(), password.encode())
    )


def marathon_unauthorized(request: web.Request) -> web.Response:
    """Jetty's 401: the challenge and its default error page (no server version, as Marathon sets)."""
    page = (
        '<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>\n'
        "<title>Error 401 Unauthorized</title>\n</head>\n<body><h2>HTTP ERROR 401</h2>\n"
        f"<p>Problem accessing {html.escape(request.path)}. Reason:\n<pre>    Unauthorized</pre></p>\n"
        "</body>\n</html>\n"
    )
    return web.Response(
        401,
        raw=page.encode(),
        headers={"WWW-Authenticate": MARATHON_CHALLENGE, "Content-Type": "text/html;charset=utf-8"},
    )


class RefusalLog:
    """Logs a refusal that repeats at every retry once, and again only when it changes."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger
        self.last: str | None = None

    def refused(self, message: str) -> None:
        if message != self.last:
            self.logger.error(message)
            self.last = message

    def accepted(self) -> bool:
        """Forget the refusal; True when there was one."""
        was_refused, self.last = self.last is not None, None
        return was_refused


def refusal_message(answer: Any) -> str:
    """What a master's 401 on the stand-in's wire says."""
    try:
        return str(answer.json().get("message") or answer.text)
    except ValueError:
        return answer.text
