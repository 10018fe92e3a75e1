"""DKIM signing of outgoing email (dkimpy), with the key from the environment or a file.

Configured by CRM_DKIM_DOMAIN, CRM_DKIM_SELECTOR and CRM_DKIM_PRIVATE_KEY (the PEM text) or
CRM_DKIM_PRIVATE_KEY_FILE (its path). Nothing set: email goes out unsigned, as before. Any of
them set: every email the sender hands to the SMTP server is signed (rsa-sha256,
relaxed/relaxed), or not sent at all. A key that cannot be read or parsed is a system check
error at start-up (campaigns.E001) and stops sending (campaigns.outbox.checks.sending_pause):
the rows stay queued, never go out unsigned. No models here; the protocol is campaigns.smtp.
"""
import base64
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import dkim
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils
from dkim.crypto import UnparsableKeyError, parse_pem_private_key
from django.conf import settings
from django.core.checks import Error, register

logger = logging.getLogger(__name__)

_DIGESTS = {"sha256": hashes.SHA256, "sha1": hashes.SHA1}


@lru_cache(maxsize=8)
def _openssl_key(numbers: tuple[int, ...]) -> rsa.RSAPrivateKey:
    modulus, public_exponent, private_exponent, p, q, dp, dq, q_inverse = numbers
    return rsa.RSAPrivateNumbers(
        p=p, q=q, d=private_exponent, dmp1=dp, dmq1=dq, iqmp=q_inverse,
        public_numbers=rsa.RSAPublicNumbers(public_exponent, modulus)).private_key()


def _rsa_sign_openssl(digest, private_key: dict) -> bytes:
    """dkimpy's RSASSA-PKCS1-v1_5 signature, computed by OpenSSL (the `cryptography` package):
    byte-identical (the scheme is deterministic) and about 15 times cheaper than dkimpy's
    pure-Python modular powers, which cost ~9 ms of CPU per email and capped a 2-core server
    below 200 signed emails/s. dkimpy has no switch for its RSA backend, so it is replaced here
    (in campaigns.dkim, the only signer), like crm.broker_patches does for kombu."""
    key = _openssl_key((private_key["modulus"], private_key["publicExponent"],
                        private_key["privateExponent"], private_key["prime1"],
                        private_key["prime2"], private_key["exponent1"],
                        private_key["exponent2"], private_key["coefficient"]))
    return key.sign(digest.digest(), padding.PKCS1v15(),
                    utils.Prehashed(_DIGESTS[digest.name]()))


dkim.RSASSA_PKCS1_v1_5_sign = _rsa_sign_openssl


@lru_cache(maxsize=8)
def _pem_private_key(key: bytes) -> dict:
    """dkimpy parses the PEM key (in pure Python) on every signature, a tenth of a signed
    email's CPU; the same few keys are parsed once per process here. (An exception is not
    cached: a bad key fails every time.) The dict is only read, by _rsa_sign_openssl."""
    return parse_pem_private_key(key)


dkim.parse_pem_private_key = _pem_private_key

# Signed: what a receiver shows or acts on, List-Unsubscribe(-Post) above all (RFC 8058 asks
# for both to be covered by the signature, Gmail's and Yahoo's bulk-sender rules too).
SIGNED_HEADERS = (b"from", b"to", b"subject", b"date", b"message-id", b"list-unsubscribe",
                  b"list-unsubscribe-post", b"mime-version", b"content-type",
                  b"content-transfer-encoding", b"content-language")
CANONICALIZE = (b"relaxed", b"relaxed")


class DkimBroken(Exception):
    """DKIM is configured but its key cannot be used: nothing may be sent."""


@dataclass(frozen=True)
class Signer:
    domain: str
    selector: str
    key: bytes  # PEM

    def sign(self, data: bytes) -> bytes:
        """`data` (an email's bytes, CRLF line ends) with a DKIM-Signature header first."""
        header = dkim.sign(data, self.selector.encode(), self.domain.encode(), self.key,
                           canonicalize=CANONICALIZE, include_headers=list(SIGNED_HEADERS),
                           linesep=b"\r\n")
        return header + data

    def public_key(self) -> tuple[int, int]:
        """(modulus, public exponent) of the key."""
        private = parse_pem_private_key(self.key)
        return private["modulus"], private["publicExponent"]

    def dns_record(self) -> str:
        """The TXT record to publish at <selector>._domainkey.<domain>."""
        modulus, exponent = self.public_key()
        return f"v=DKIM1; k=rsa; p={base64.b64encode(_spki_der(modulus, exponent)).decode()}"

    @property
    def record_name(self) -> str:
        return f"{self.selector}._domainkey.{self.domain}"


def configured() -> bool:
    return bool(settings.CRM_DKIM_DOMAIN or settings.CRM_DKIM_SELECTOR
                or settings.CRM_DKIM_PRIVATE_KEY or settings.CRM_DKIM_PRIVATE_KEY_FILE)


def _key_text() -> bytes:
    if settings.CRM_DKIM_PRIVATE_KEY and settings.CRM_DKIM_PRIVATE_KEY_FILE:
        raise DkimBroken("set CRM_DKIM_PRIVATE_KEY or CRM_DKIM_PRIVATE_KEY_FILE, not both")
    if settings.CRM_DKIM_PRIVATE_KEY_FILE:
        try:
            text = Path(settings.CRM_DKIM_PRIVATE_KEY_FILE).read_bytes()
        except OSError as error:
            raise DkimBroken(f"cannot read CRM_DKIM_PRIVATE_KEY_FILE: {error}") from error
    else:
        # An environment variable often holds the PEM on one line with "\n" written out.
        text = settings.CRM_DKIM_PRIVATE_KEY.replace("\\n", "\n").encode()
    return text.replace(b"\r\n", b"\n").strip() + b"\n"


def _load() -> Signer:
    missing = [name for name, value in (("CRM_DKIM_DOMAIN", settings.CRM_DKIM_DOMAIN),
                                        ("CRM_DKIM_SELECTOR", settings.CRM_DKIM_SELECTOR))
               if not value]
    if not (settings.CRM_DKIM_PRIVATE_KEY or settings.CRM_DKIM_PRIVATE_KEY_FILE):
        missing.append("CRM_DKIM_PRIVATE_KEY or CRM_DKIM_PRIVATE_KEY_FILE")
    if missing:
        raise DkimBroken("DKIM is half configured: missing " + ", ".join(missing))
    key = _key_text()
    try:
        private = parse_pem_private_key(key)
    except (UnparsableKeyError, ValueError, IndexError, TypeError) as error:
        raise DkimBroken(f"the DKIM private key does not parse as a PEM RSA key: "
                         f"{str(error).splitlines()[0] if str(error) else type(error).__name__}"
                         ) from error
    if private["modulus"].bit_length() < 1024:
        raise DkimBroken("the DKIM key is shorter than 1024 bits: receivers ignore it "
                         "(use 2048)")
    signer = Signer(domain=settings.CRM_DKIM_DOMAIN.strip().lower(),
                    selector=settings.CRM_DKIM_SELECTOR.strip(), key=key)
    try:  # a key that parses but cannot sign (a broken CRT part) fails here, not per email
        signer.sign(b"From: check@example.com\r\n\r\ncheck\r\n")
    except (dkim.DKIMException, ValueError) as error:  # ValueError: OpenSSL refuses the key
        raise DkimBroken(f"the DKIM key cannot sign: {error}") from error
    return signer


@lru_cache(maxsize=4)
def _cached(domain: str, selector: str, key: str, key_file: str) -> Signer | DkimBroken:
    try:
        return _load()
    except DkimBroken as error:
        return error


def signer() -> Signer | None:
    """The configured signer, None when DKIM is not configured; DkimBroken when it is but
    cannot be used. Loaded once per process (per settings)."""
    if not configured():
        return None
    loaded = _cached(settings.CRM_DKIM_DOMAIN, settings.CRM_DKIM_SELECTOR,
                     settings.CRM_DKIM_PRIVATE_KEY, settings.CRM_DKIM_PRIVATE_KEY_FILE)
    if isinstance(loaded, DkimBroken):
        raise loaded
    return loaded


def broken_reason() -> str:
    """Why DKIM is configured but unusable; "" when it is fine or not configured."""
    try:
        signer()
    except DkimBroken as error:
        return str(error)
    return ""


@register()
def check_dkim_key(app_configs=None, **kwargs) -> list[Error]:
    """campaigns.E001: DKIM configured with a key that cannot be used."""
    reason = broken_reason()
    if not reason:
        return []
    return [Error(f"DKIM signing is configured but unusable: {reason}. No campaign email "
                  "will be sent until this is fixed (never unsigned).",
                  hint="Check CRM_DKIM_DOMAIN, CRM_DKIM_SELECTOR and CRM_DKIM_PRIVATE_KEY or "
                       "CRM_DKIM_PRIVATE_KEY_FILE (a PEM RSA private key, 2048 bits); "
                       "docs/email-delivery.md, \"DKIM\". Unset all four to send unsigned.",
                  id="campaigns.E001")]


# --- The public key as DNS wants it (SubjectPublicKeyInfo, DER) --------------------------------

def _der(tag: int, content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        return bytes([tag, length]) + content
    size = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + content


def _der_int(value: int) -> bytes:
    return _der(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


_RSA_ALGORITHM = _der(0x30, _der(0x06, bytes.fromhex("2a864886f70d010101")) + _der(0x05, b""))


def _spki_der(modulus: int, exponent: int) -> bytes:
    rsa_key = _der(0x30, _der_int(modulus) + _der_int(exponent))
    return _der(0x30, _RSA_ALGORITHM + _der(0x03, b"\x00" + rsa_key))
