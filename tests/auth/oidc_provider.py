"""A small but real OpenID Connect provider on a loopback port, for the single sign-on tests.

It serves discovery, JWKS, authorize and token over HTTP like Keycloak or Entra ID would: codes are
single-use and bound to the client, redirect URI and PKCE challenge (S256, checked at the token
endpoint), the client secret is checked, and ID tokens are RS256-signed JWTs with iss, aud, exp, iat,
nonce, email and email_verified. Knobs on ``OidcProvider`` make it misbehave for the refusal tests.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from flask import Flask, abort, jsonify, redirect, request
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server

CLIENT_ID = "helpdesk-test"
CLIENT_SECRET = "s3cret-for-tests"


@dataclass
class OidcProvider:
    email: str = "agent@staff.test"
    email_verified: bool | None = True
    name: str = "SSO Agent"
    extra_claims: dict = field(default_factory=dict)
    # Misbehaviours: another nonce, another audience, an expired token, a foreign signing key.
    wrong_nonce: bool = False
    audience: str | None = None
    expired: bool = False
    foreign_key: bool = False
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "test-1"}))
    codes: dict = field(default_factory=dict)
    token_requests: list = field(default_factory=list)
    url: str = ""

    def app(self) -> Flask:
        app = Flask("oidc-provider")

        @app.get("/.well-known/openid-configuration")
        def discovery():
            return jsonify(
                issuer=self.url,
                authorization_endpoint=f"{self.url}/authorize",
                token_endpoint=f"{self.url}/token",
                jwks_uri=f"{self.url}/jwks",
                response_types_supported=["code"],
                subject_types_supported=["public"],
                id_token_signing_alg_values_supported=["RS256"],
                code_challenge_methods_supported=["S256"],
                token_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post"],
            )

        @app.get("/jwks")
        def jwks():
            return jsonify(keys=[self.key.as_dict(private=False)])

        @app.get("/authorize")
        def authorize():
            args = request.args
            if args.get("client_id") != CLIENT_ID or args.get("response_type") != "code":
                abort(400)
            if args.get("code_challenge_method") != "S256" or not args.get("code_challenge"):
                abort(400)  # PKCE is required here, as many providers now do
            code = secrets.token_urlsafe(16)
            self.codes[code] = dict(args)
            query = urlencode({"code": code, "state": args["state"]})
            return redirect(f"{args['redirect_uri']}?{query}")

        @app.post("/token")
        def token():
            grant = self.codes.pop(request.form.get("code", ""), None)  # single use
            self.token_requests.append(dict(request.form))
            client_id, secret = _client_credentials()
            if grant is None or client_id != CLIENT_ID or secret != CLIENT_SECRET:
                return jsonify(error="invalid_grant"), 400
            verifier = request.form.get("code_verifier", "")
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
            if challenge.decode() != grant["code_challenge"]:
                return jsonify(error="invalid_grant", error_description="PKCE"), 400
            if request.form.get("redirect_uri") != grant["redirect_uri"]:
                return jsonify(error="invalid_grant"), 400
            return jsonify(
                access_token=secrets.token_urlsafe(16),
                token_type="Bearer",
                expires_in=300,
                id_token=self._id_token(grant),
            )

        return app

    def _id_token(self, grant: dict) -> str:
        now = int(time.time())
        claims = {
            "iss": self.url,
            "sub": hashlib.sha256(self.email.encode()).hexdigest()[:20],
            "aud": self.audience or CLIENT_ID,
            "iat": now - (3600 if self.expired else 0),
            "exp": now - 1800 if self.expired else now + 300,
            "nonce": "not-the-nonce" if self.wrong_nonce else grant.get("nonce"),
            "email": self.email,
            "email_verified": self.email_verified,
            "name": self.name,
            **self.extra_claims,
        }
        key = RSAKey.generate_key(2048, parameters={"kid": "test-1"}) if self.foreign_key else self.key
        return jwt.encode({"alg": "RS256", "kid": "test-1"}, claims, key)


def _client_credentials() -> tuple[str | None, str | None]:
    if request.authorization and request.authorization.type == "basic":
        return request.authorization.username, request.authorization.password
    return request.form.get("client_id"), request.form.get("client_secret")


class RunningProvider:
    """The provider's Flask app served by Werkzeug on 127.0.0.1 in a thread."""

    def __init__(self, provider: OidcProvider):
        self.provider = provider
        self.server = make_server("127.0.0.1", 0, provider.app(), threaded=True)
        provider.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> OidcProvider:
        self.thread.start()
        return self.provider

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)
