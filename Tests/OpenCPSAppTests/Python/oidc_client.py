"""A relying service written with authlib, driving OpenCPS's OpenID Connect provider.

Usage: oidc_client.py BASE OPENCPS TOKEN PIN_FILE

BASE is the server's base URL (the issuer), OPENCPS the `opencps` executable, TOKEN the demo
card's token file and PIN_FILE a file holding its PIN. The card login is performed by
`opencps card login`, as the user agent would; everything else is authlib's: discovery, the
authorization URL with PKCE (S256), the code exchange, ID token validation (signature through
JWKS, iss, aud, nonce, exp, at_hash), userinfo as JSON and as a signed JWT, refresh,
introspection and revocation. Prints one line per check and exits non-zero on the first failure.
"""

import secrets
import subprocess
import sys

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, JsonWebToken
from authlib.oidc.core import CodeIDToken

BASE, OPENCPS, TOKEN, PIN_FILE = sys.argv[1:5]
REDIRECT = "http://127.0.0.1:8765/callback"
SCOPE = "openid profile scope_all"
SECRET = "demo-service-secret-0123456789"


def check(condition, what):
    if not condition:
        print(f"FAILED: {what}")
        sys.exit(1)
    print(f"ok: {what}")


metadata = requests.get(f"{BASE}/.well-known/openid-configuration", timeout=10).json()
check(metadata["issuer"] == BASE, "discovery names the issuer")
check("S256" in metadata["code_challenge_methods_supported"], "discovery offers PKCE S256")
jwks = JsonWebKey.import_key_set(requests.get(metadata["jwks_uri"], timeout=10).json())
jwt = JsonWebToken(["ES256"])


def login(client_id, auth_method):
    """The code flow with PKCE, the card signing the challenge; returns the session and tokens."""
    client = OAuth2Session(
        client_id, SECRET, scope=SCOPE, redirect_uri=REDIRECT, code_challenge_method="S256", token_endpoint_auth_method=auth_method
    )
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    url, state = client.create_authorization_url(metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce)
    redirect = subprocess.run(
        [OPENCPS, "card", "login", "--token", TOKEN, "--input", PIN_FILE, "--authorize-url", url],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    check(redirect.startswith(REDIRECT) and f"state={state}" in redirect, f"{client_id}: the card login returns to the client with the state")
    token = client.fetch_token(metadata["token_endpoint"], authorization_response=redirect, code_verifier=verifier)
    claims = jwt.decode(
        token["id_token"], jwks, claims_cls=CodeIDToken,
        claims_options={"iss": {"essential": True, "value": BASE}},
        claims_params={"nonce": nonce, "client_id": client_id, "access_token": token["access_token"]},
    )
    claims.validate()
    check(claims["aud"] == client_id and claims["nonce"] == nonce, f"{client_id}: ID token valid (signature, iss, aud, nonce, exp, at_hash)")
    check(claims["acr"] == "eidas1" and "card" in claims["amr"], f"{client_id}: acr eidas1, amr card")
    return client, token, claims


client, token, claims = login("demo-service", "client_secret_basic")
userinfo = client.get(metadata["userinfo_endpoint"]).json()
check(userinfo["sub"] == claims["sub"] and userinfo["sub"].startswith("f:"), "userinfo (JSON) has the ID token's sub")
check(userinfo["SubjectNameID"] == userinfo["preferred_username"], "userinfo carries SubjectNameID")
check(len(userinfo["SubjectRefPro"]["exercices"]) >= 1, "userinfo carries SubjectRefPro's exercices")

jwt_client, jwt_token, _ = login("demo-service-jwt", "client_secret_post")
response = jwt_client.get(metadata["userinfo_endpoint"])
check(response.headers["Content-Type"].startswith("application/jwt"), "userinfo (signed) is application/jwt")
signed = jwt.decode(response.text, jwks, claims_options={"iss": {"essential": True, "value": BASE}, "aud": {"essential": True, "value": "demo-service-jwt"}})
signed.validate()
check(signed["sub"] == userinfo["sub"], "signed userinfo verifies through JWKS and names the same sub")

refreshed = client.refresh_token(metadata["token_endpoint"], refresh_token=token["refresh_token"])
check(refreshed["refresh_token"] != token["refresh_token"], "refresh rotates the refresh token")

answer = client.introspect_token(metadata["introspection_endpoint"], token=refreshed["access_token"]).json()
check(answer["active"] is True and answer["client_id"] == "demo-service", "introspection: the new access token is active")
old = client.introspect_token(metadata["introspection_endpoint"], token=token["refresh_token"]).json()
check(old["active"] is False, "introspection: the used refresh token is not")

client.revoke_token(metadata["revocation_endpoint"], token=refreshed["refresh_token"], token_type_hint="refresh_token")
after = client.introspect_token(metadata["introspection_endpoint"], token=refreshed["access_token"]).json()
check(after["active"] is False, "revocation of the refresh token ends its access token")
print("authlib: all checks passed")
