"""A real OpenID Connect provider on loopback, for the sign-in tests.

``oidc_provider`` starts it in a thread on a free port of 127.0.0.1 (a small WSGI app on
wsgiref's threading server). It speaks the published protocol that allauth's client talks:
discovery (``/.well-known/openid-configuration``), the JWKS, the authorization endpoint
(a sign-in form, as a real IdP shows one), the token endpoint (authorization code, client
secret by HTTP Basic or in the body, PKCE when the client sends a challenge) and userinfo.
ID tokens are RS256 JWTs signed by Authlib's jose with a key made for the run.

A test registers the people this IdP knows (``add_user(email, **claims)``) and may bend
the next token (``token_overrides``: a wrong ``aud``, an ``exp`` in the past, ``amr``).
``token_requests`` keeps what the token endpoint received, so a test can see the secret
really went to the provider.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from socketserver import ThreadingMixIn
from urllib.parse import parse_qs, urlencode
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from authlib.jose import JsonWebKey, jwt

CLIENT_ID = "pillarwise-test-client"
CLIENT_SECRET = "s3cr3t-" + "Qz8wLm4Kp2Vx9Rt" * 2


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass


class OIDCProvider:
    def __init__(self):
        self.key = JsonWebKey.generate_key("RSA", 2048, is_private=True, options={"kid": "k1"})
        self.users: dict[str, dict] = {}
        self.codes: dict[str, dict] = {}
        self.tokens: dict[str, dict] = {}
        self.redirect_uris: set[str] = set()
        self.token_overrides: dict = {}
        self.token_requests: list[dict] = []
        self.issuer = ""
        self._lock = threading.Lock()

    # --- arranging -------------------------------------------------------------------
    def add_user(self, email: str, **claims) -> dict:
        user = {"sub": secrets.token_hex(8), "email": email, "email_verified": True, **claims}
        self.users[email.lower()] = user
        return user

    # --- the protocol ----------------------------------------------------------------
    def discovery(self) -> dict:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": ["openid", "email", "profile"],
            "claims_supported": ["sub", "email", "email_verified", "name", "amr", "acr"],
            "code_challenge_methods_supported": ["S256"],
        }

    def __call__(self, environ, start_response):
        path = environ["PATH_INFO"]
        method = environ["REQUEST_METHOD"]
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        form = {}
        if method == "POST":
            size = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(size).decode()
            form = {k: v[0] for k, v in parse_qs(body).items()}
        if path == "/.well-known/openid-configuration":
            return self._json(start_response, self.discovery())
        if path == "/jwks":
            return self._json(start_response, {"keys": [self.key.as_dict(is_private=False)]})
        if path == "/authorize" and method == "GET":
            return self._sign_in_form(start_response, query)
        if path == "/authorize" and method == "POST":
            return self._authorize(start_response, form)
        if path == "/token" and method == "POST":
            return self._token(start_response, environ, form)
        if path == "/userinfo":
            return self._userinfo(start_response, environ)
        return self._json(start_response, {"error": "not_found"}, "404 Not Found")

    def _json(self, start_response, data, status="200 OK"):
        body = json.dumps(data).encode()
        start_response(status, [("Content-Type", "application/json")])
        return [body]

    def _error(self, start_response, error, status="400 Bad Request"):
        return self._json(start_response, {"error": error}, status)

    def _sign_in_form(self, start_response, query):
        if query.get("client_id") != CLIENT_ID:
            return self._error(start_response, "unauthorized_client")
        if query.get("redirect_uri") not in self.redirect_uris:
            return self._error(start_response, "invalid_redirect_uri")
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in query.items()
        )
        page = (
            "<!doctype html><html lang='en'><head><title>Loopback IdP</title></head><body>"
            "<main><h1>Loopback IdP sign-in</h1><form method='post' action='/authorize'>"
            f"{hidden}<label for='email'>Account</label>"
            "<input id='email' name='login_email' type='email'>"
            "<button type='submit'>Sign in at the IdP</button></form></main></body></html>"
        )
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [page.encode()]

    def authorize(self, params: dict, email: str) -> str:
        """Sign ``email`` in and answer the redirect back to the client (the Location)."""
        user = self.users.get(email.lower())
        if user is None:
            return ""
        code = secrets.token_urlsafe(16)
        with self._lock:
            self.codes[code] = {"user": user, "params": params, "at": time.time()}
        target = {"code": code}
        if "state" in params:
            target["state"] = params["state"]
        return f"{params['redirect_uri']}?{urlencode(target)}"

    def _authorize(self, start_response, form):
        email = form.pop("login_email", "")
        if form.get("redirect_uri") not in self.redirect_uris:
            return self._error(start_response, "invalid_redirect_uri")
        location = self.authorize(form, email)
        if not location:
            return self._error(start_response, "access_denied", "403 Forbidden")
        start_response("302 Found", [("Location", location)])
        return [b""]

    def _client_secret(self, environ, form) -> tuple[str, str]:
        header = environ.get("HTTP_AUTHORIZATION", "")
        if header.startswith("Basic "):
            raw = base64.b64decode(header[6:]).decode()
            client_id, _, secret = raw.partition(":")
            from urllib.parse import unquote_plus

            return unquote_plus(client_id), unquote_plus(secret)
        return form.get("client_id", ""), form.get("client_secret", "")

    def _token(self, start_response, environ, form):
        client_id, secret = self._client_secret(environ, form)
        self.token_requests.append({"client_id": client_id, "secret": secret, **form})
        if client_id != CLIENT_ID or secret != CLIENT_SECRET:
            return self._error(start_response, "invalid_client", "401 Unauthorized")
        with self._lock:
            grant = self.codes.pop(form.get("code", ""), None)
        if grant is None or form.get("grant_type") != "authorization_code":
            return self._error(start_response, "invalid_grant")
        params = grant["params"]
        if form.get("redirect_uri") != params.get("redirect_uri"):
            return self._error(start_response, "invalid_grant")
        challenge = params.get("code_challenge")
        if challenge:
            verifier = form.get("code_verifier", "")
            digest = hashlib.sha256(verifier.encode()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != challenge:
                return self._error(start_response, "invalid_grant")
        user = grant["user"]
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": user["sub"],
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            **{k: v for k, v in user.items() if k != "sub"},
        }
        if "nonce" in params:
            claims["nonce"] = params["nonce"]
        claims.update(self.token_overrides)
        id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, self.key).decode()
        access = secrets.token_urlsafe(24)
        self.tokens[access] = user
        return self._json(
            start_response,
            {
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": id_token,
            },
        )

    def _userinfo(self, start_response, environ):
        header = environ.get("HTTP_AUTHORIZATION", "")
        user = self.tokens.get(header.removeprefix("Bearer ").strip())
        if user is None:
            return self._error(start_response, "invalid_token", "401 Unauthorized")
        return self._json(start_response, dict(user))


@pytest.fixture
def oidc_provider():
    provider = OIDCProvider()
    server = make_server("127.0.0.1", 0, provider, server_class=_Server, handler_class=_Quiet)
    provider.issuer = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
