"""A timestamp authority (RFC 3161) on loopback for the tests and the benches: a root, a
timestamping certificate under it, and an HTTP server that answers as a real one does."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def authority(tmp_path):
    """A root and a timestamping certificate under it; the root's PEM file for trust."""
    start = datetime.now(UTC) - timedelta(days=1)
    # RSA: pyHanko's test timestamper signs with nothing else
    root_key, tsa_key = (rsa.generate_private_key(public_exponent=65537, key_size=2048)
                         for _ in range(2))
    root = (x509.CertificateBuilder().subject_name(_name("Test root")).issuer_name(
        _name("Test root")).public_key(root_key.public_key()).serial_number(1)
        .not_valid_before(start).not_valid_after(start + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                     False), critical=True)
        .sign(root_key, hashes.SHA256()))
    tsa = (x509.CertificateBuilder().subject_name(_name("Test TSA")).issuer_name(
        root.subject).public_key(tsa_key.public_key()).serial_number(2)
        .not_valid_before(start).not_valid_after(start + timedelta(days=3650))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]),
                       critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False,
                                     False), critical=True)
        .sign(root_key, hashes.SHA256()))
    pem = tmp_path / "tsa-root.pem"
    pem.write_bytes(root.public_bytes(serialization.Encoding.PEM))
    der = serialization.Encoding.DER
    stamper = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(tsa.public_bytes(der)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(tsa_key.private_bytes(
            der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())),
        certs_to_embed=[asn1_x509.Certificate.load(root.public_bytes(der))])
    return stamper, pem


class TimestampServer:
    """RFC 3161 over HTTP on loopback; `failing` makes it answer 500 as a broken one does."""

    def __init__(self, stamper: DummyTimeStamper) -> None:
        self.failing = False
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                server.requests += 1
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if server.failing:
                    self.send_response(500)
                    self.end_headers()
                    return
                answer = stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_port}/tsr"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.http.shutdown()
        self.http.server_close()
