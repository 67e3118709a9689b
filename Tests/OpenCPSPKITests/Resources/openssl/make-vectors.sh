#!/bin/sh
# Regenerates the OpenSSL known-answer vectors used by OCSPKnownAnswerTests (run from this folder).
set -e
openssl ecparam -name prime256v1 -genkey -noout -out ca.key
openssl req -new -x509 -key ca.key -subj "/C=FR/O=Vectors/CN=Vector CA" -days 3650 -sha256 \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" -out ca.pem
for n in 1 2; do
  openssl ecparam -name prime256v1 -genkey -noout -out leaf$n.key
  openssl req -new -key leaf$n.key -subj "/C=FR/CN=leaf $n" -out leaf$n.csr
  openssl x509 -req -in leaf$n.csr -CA ca.pem -CAkey ca.key -set_serial $((0x1000 + n)) -days 365 -sha256 -out leaf$n.pem
  rm leaf$n.csr leaf$n.key
done
# leaf 2 revoked (keyCompromise) in the index.
printf 'V\t%s\t\t1001\tunknown\t/C=FR/CN=leaf 1\n' "351231000000Z" > index.txt
printf 'R\t%s\t%s,keyCompromise\t1002\tunknown\t/C=FR/CN=leaf 2\n' "351231000000Z" "250101120000Z" >> index.txt
openssl ocsp -issuer ca.pem -cert leaf1.pem -cert leaf2.pem -reqout req-sha1-nonce.der
openssl ocsp -sha256 -issuer ca.pem -cert leaf1.pem -no_nonce -reqout req-sha256.der
openssl ocsp -index index.txt -rsigner ca.pem -rkey ca.key -CA ca.pem -reqin req-sha1-nonce.der -respout resp-sha1-nonce.der -ndays 1
rm -f index.txt.attr
