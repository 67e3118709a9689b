#!/bin/sh
# Regenerates the OpenSSL known-answer vectors of PKCS11KnownAnswerTests (run from this folder):
# an RSA-2048 key (PKCS #1 DER) and its PKCS #1 v1.5 SHA-256 signature of message.txt, which
# the test imports into SoftHSM2 and must reproduce byte for byte (the scheme is deterministic);
# a P-256 key's public point and an ECDSA SHA-256 signature of the same message, which the
# token must accept.
set -e
printf 'Ordonnance du 4 décembre 2026 : amoxicilline 1 g, 3 fois par jour, 7 jours.\n' > message.txt
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.pem
openssl rsa -in rsa.pem -traditional -outform DER -out rsa-2048-pkcs1.der
openssl dgst -sha256 -sign rsa.pem -out rsa-2048-sha256.sig message.txt
openssl ecparam -name prime256v1 -genkey -noout -out ec.pem
openssl ec -in ec.pem -pubout -outform DER -out p256-public.der
openssl dgst -sha256 -sign ec.pem -out p256-sha256.sig message.txt
rm rsa.pem ec.pem
