"""A relying service written with authlib, driving OpenCPS's OpenID Connect provider.

Usage: oidc_client.py BASE OPENCPS TOKEN PIN_FILE

BASE is the server's base URL (the issuer), OPENCPS the `opencps` executable, TOKEN the demo
card's token file and PIN_FILE a file holding its PIN. The card login is performed by
`opencps card login`, as the user agent would; everything else is authlib's: discovery, the
authorization URL with PKCE (S256), the code exchange, ID token validation (signature through
JWKS, iss, aud, nonce, exp, at_hash), userinfo as JSON and as a signed JWT, refresh,
introspection and revocation; then a client registered through the admin API with its public
key authenticates with authlib's private_key_jwt (RFC 7523) at the token and introspection
endpoints, and a replayed assertion or one signed by another key is refused. Prints one line per
check and exits non-zero on the first failure.
"""

import secrets
import subprocess
import sys
import time

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, JsonWebToken
from authlib.jose import jwt as jose_jwt
from authlib.oauth2.rfc7523 import PrivateKeyJWT
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


def login(client_id, auth_method, secret=SECRET, auth=None):
    """The code flow with PKCE, the card signing the challenge; returns the session and tokens."""
    client = OAuth2Session(
        client_id, secret, scope=SCOPE, redirect_uri=REDIRECT, code_challenge_method="S256", token_endpoint_auth_method=auth_method,
        revocation_endpoint_auth_method=auth_method,
    )
    if auth is not None:
        client.register_client_auth_method(auth)
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

# private_key_jwt: the client keeps its private key; the provider knows its public JWK only.
key = JsonWebKey.generate_key("RSA", 2048, is_private=True)
public = dict(key.as_dict(is_private=False), kid="pkjwt-1", use="sig", alg="RS256")
registered = requests.post(
    f"{BASE}/api/v1/oidc/clients", timeout=10, headers={"Authorization": "Bearer demo-operator-token"},
    json={"clientId": "demo-service-pkjwt", "tokenEndpointAuthMethod": "private_key_jwt", "redirectUris": [REDIRECT], "jwks": {"keys": [public]}},
)
check(registered.status_code == 201 and "clientSecret" not in registered.json(), "a private_key_jwt client registers its JWK Set and gets no secret")
check("private_key_jwt" in metadata["token_endpoint_auth_methods_supported"], "discovery offers private_key_jwt")
private = dict(key.as_dict(is_private=True), kid="pkjwt-1")
token_endpoint = metadata["token_endpoint"]
pk_client, pk_token, _ = login("demo-service-pkjwt", "private_key_jwt", secret=private, auth=PrivateKeyJWT(token_endpoint))
answer = pk_client.introspect_token(metadata["introspection_endpoint"], token=pk_token["access_token"]).json()
check(answer["active"] is True and answer["client_id"] == "demo-service-pkjwt", "private_key_jwt: introspection authenticates the client too")


def introspect_with(assertion):
    return requests.post(metadata["introspection_endpoint"], timeout=10, data={
        "token": pk_token["access_token"], "client_id": "demo-service-pkjwt",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "client_assertion": assertion,
    })


def assertion(signing_key, jti):
    now = int(time.time())
    claims = {"iss": "demo-service-pkjwt", "sub": "demo-service-pkjwt", "aud": token_endpoint, "iat": now, "exp": now + 60, "jti": jti}
    return jose_jwt.encode({"alg": "RS256", "kid": "pkjwt-1"}, claims, signing_key).decode()


once = assertion(private, secrets.token_urlsafe(16))
check(introspect_with(once).status_code == 200, "private_key_jwt: a fresh assertion authenticates")
replayed = introspect_with(once)
check(replayed.status_code == 401 and replayed.json()["code"] == "oidc.client.assertion-replayed", "private_key_jwt: a replayed jti is refused")
stranger = JsonWebKey.generate_key("RSA", 2048, is_private=True).as_dict(is_private=True)
forged = introspect_with(assertion(stranger, secrets.token_urlsafe(16)))
check(forged.status_code == 401 and forged.json()["code"] == "oidc.client.assertion-bad-signature", "private_key_jwt: another key's assertion is refused")
print("authlib: all checks passed")
