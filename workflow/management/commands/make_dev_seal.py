"""Create the development seal: a local test CA, the seal's certificate as a PKCS#12 with
a passphrase, and a local timestamp signer, in ``SEAL_DIR`` (or ``--dir``).

For the embedded default and the tests only: nothing it makes is trusted outside this
installation. Idempotent: files already there are kept (``--force`` remakes them).
"""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.core.management.base import BaseCommand, CommandParser

from workflow.audit import seal

SEAL_SUBJECT = "Lettres de mission — cachet de test"
CA_SUBJECT = "Lettres de mission — autorité de test"
TSA_SUBJECT = "Lettres de mission — horodatage de test"
VALIDITY = dt.timedelta(days=3650)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Lettres de mission (développement)"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _certificate(
    subject: str,
    key: rsa.RSAPrivateKey,
    issuer: x509.Certificate | None,
    issuer_key: rsa.RSAPrivateKey,
    *,
    ca: bool = False,
    usage: x509.ObjectIdentifier | None = None,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer.subject if issuer else _name(subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    else:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=usage is None,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    if usage is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=True)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem_key(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    path.chmod(0o600)


def make_dev_seal(directory: Path, *, force: bool = False) -> bool:
    """Write the development seal's files in ``directory``; False if they were all there."""
    names = (
        seal.DEV_CA_CERT,
        seal.DEV_CA_KEY,
        seal.DEV_SEAL_P12,
        seal.DEV_SEAL_PASSPHRASE,
        seal.DEV_TSA_CERT,
        seal.DEV_TSA_KEY,
    )
    if not force and all((directory / name).exists() for name in names):
        return False
    directory.mkdir(parents=True, exist_ok=True)
    ca_key = _key()
    ca_cert = _certificate(CA_SUBJECT, ca_key, None, ca_key, ca=True)
    seal_key = _key()
    seal_cert = _certificate(SEAL_SUBJECT, seal_key, ca_cert, ca_key)
    tsa_key = _key()
    tsa_cert = _certificate(
        TSA_SUBJECT, tsa_key, ca_cert, ca_key, usage=ExtendedKeyUsageOID.TIME_STAMPING
    )
    passphrase = secrets.token_urlsafe(24)
    p12 = pkcs12.serialize_key_and_certificates(
        name=SEAL_SUBJECT.encode(),
        key=seal_key,
        cert=seal_cert,
        cas=[ca_cert],
        encryption_algorithm=serialization.BestAvailableEncryption(passphrase.encode()),
    )
    _write(directory / seal.DEV_CA_KEY, _pem_key(ca_key))
    _write(directory / seal.DEV_TSA_KEY, _pem_key(tsa_key))
    _write(directory / seal.DEV_SEAL_PASSPHRASE, passphrase.encode())
    _write(directory / seal.DEV_SEAL_P12, p12)
    (directory / seal.DEV_TSA_CERT).write_bytes(tsa_cert.public_bytes(serialization.Encoding.PEM))
    # Last: the CA's certificate marks a complete set.
    (directory / seal.DEV_CA_CERT).write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    return True


class Command(BaseCommand):
    help = (
        "Create a development seal (test CA, seal certificate as PKCS#12, local timestamp "
        "signer) in SEAL_DIR. Idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dir", type=Path, default=None, help="folder (default SEAL_DIR)")
        parser.add_argument("--force", action="store_true", help="remake existing files")

    def handle(self, *args: Any, **options: Any) -> None:
        directory = options["dir"] or seal.seal_dir()
        if make_dev_seal(directory, force=options["force"]):
            self.stdout.write(f"Development seal written in {directory}.")
        else:
            self.stdout.write(f"Development seal already in {directory}.")
