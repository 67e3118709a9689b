"""Writes the OIDC plugin instance glewlwyd's admin API takes, for the benchmark.

Usage: glewlwyd-plugin.py ADMIN_JS OUT_JSON

Glewlwyd's admin page holds the plugin's default parameters (139 of them) in its JavaScript
bundle; this reads them from there (so that they match the installed version), and sets what
the benchmark needs: ES256 tokens (a P-256 key made here), the password and client credentials
grants, introspection by the client with HTTP Basic, access tokens of an hour.
"""
import json
import re
import sys

from cryptography.hazmat.primitives.asymmetric import ec

source = open(sys.argv[1], encoding="utf-8").read()
start = source.index('"jwt-type":"rsa"')
start = source.rindex("{", 0, start)
depth = 0
for end in range(start, len(source)):
    depth += {"{": 1, "}": -1}.get(source[end], 0)
    if depth == 0:
        break
literal = source[start:end + 1].replace("!0", "true").replace("!1", "false")
parameters = json.loads(re.sub(r"([{,])([A-Za-z_]\w*):", r'\1"\2":', literal))


def b64(number):
    import base64
    return base64.urlsafe_b64encode(number.to_bytes(32, "big")).rstrip(b"=").decode()


key = ec.generate_private_key(ec.SECP256R1())
numbers = key.private_numbers()
jwk = {"kty": "EC", "crv": "P-256", "kid": "bench-1", "alg": "ES256", "use": "sig",
       "x": b64(numbers.public_numbers.x), "y": b64(numbers.public_numbers.y), "d": b64(numbers.private_value)}
parameters.update({
    "jwt-type": "ecdsa", "jwt-key-size": "256", "jwks-private": json.dumps({"keys": [jwk]}), "default-kid": "bench-1",
    "access-token-duration": 3600, "allow-non-oidc": True, "auth-type-password-enabled": True, "auth-type-client-enabled": True,
    "introspection-revocation-allowed": True, "introspection-revocation-allow-target-client": True, "allowed-scope": ["openid", "bench"],
})
json.dump({"module": "oidc", "name": "oidc", "display_name": "OIDC", "enabled": True, "parameters": parameters}, open(sys.argv[2], "w"))
