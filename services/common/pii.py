"""Personal data: encryption at rest, blind indexes, masking, phone numbers.

ID numbers and phone numbers are personal information under PIPL: stored
encrypted, found by a keyed hash (blind index), shown masked. One 32-byte
master key from a secret yields, through HKDF-SHA256, one key for
AES-256-GCM and one for HMAC-SHA256, so neither use can weaken the other.

Example:
    >>> cipher = PiiCipher(bytes(range(32)))
    >>> blob = cipher.encrypt("13812345678", context="volunteer.phone")
    >>> cipher.decrypt(blob, context="volunteer.phone")
    '13812345678'
    >>> mask_phone("13812345678")
    '138****5678'
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import unicodedata
from collections.abc import Mapping, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from services.common.errors import InvalidArgument

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
_ENC_INFO = b"zhiyuan/pii/enc/v1"
_HASH_INFO = b"zhiyuan/pii/hash/v1"
_PHONE = re.compile(r"1[3-9][0-9]{9}")


class PiiKeyError(ValueError):
    """The configured master key is unusable (wrong length or encoding)."""


class PiiDecryptionError(Exception):
    """A ciphertext failed authentication: tampered, wrong key or wrong context.

    Not a ``ZhiyuanError``: it is a server-side fault, never the caller's.
    """


def _derive(master_key: bytes, info: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info
    ).derive(master_key)


def _check_key(key: bytes) -> bytes:
    if not isinstance(key, bytes) or len(key) != KEY_BYTES:
        size = len(key) if isinstance(key, bytes) else type(key).__name__
        raise PiiKeyError(f"the PII master key must be exactly 32 bytes, got {size}")
    return key


def _normalise(value: str) -> str:
    # Full-width digits and letters typed through a Chinese IME must hash
    # like their ASCII forms, or duplicates slip through the blind index.
    if value.isascii():  # NFKC leaves ASCII as it is
        return value.strip().upper()
    return unicodedata.normalize("NFKC", value).strip().upper()


class PiiCipher:
    """Encrypts, decrypts and blind-indexes personal data under one master key.

    ``version`` (1-255) is written as the first byte of every ciphertext;
    ``retired_keys`` maps older versions to their master keys so data
    encrypted before a rotation still decrypts. Blind indexes always use the
    current key: rotating it means recomputing them.

    Example:
        >>> cipher = PiiCipher.from_base64(base64.b64encode(bytes(32)).decode())
        >>> len(cipher.blind_index("11010519491231002X", context="volunteer.id_number"))
        64
    """

    def __init__(
        self,
        master_key: bytes,
        *,
        version: int = 1,
        retired_keys: Mapping[int, bytes] | None = None,
    ) -> None:
        versions = {version, *(retired_keys or {})}
        if not all(1 <= v <= 255 for v in versions):
            raise PiiKeyError("key versions must be between 1 and 255")
        if retired_keys and version in retired_keys:
            raise PiiKeyError(f"key version {version} is both current and retired")
        self._version = version
        self._aeads = {
            v: AESGCM(_derive(_check_key(k), _ENC_INFO))
            for v, k in {**(retired_keys or {}), version: master_key}.items()
        }
        self._hash_key = _derive(master_key, _HASH_INFO)

    @classmethod
    def from_base64(
        cls,
        encoded: str,
        *,
        version: int = 1,
        retired_keys: Mapping[int, bytes] | None = None,
    ) -> PiiCipher:
        """Build from a base64 key as kept in a secret (blanks ignored).

        Example:
            >>> PiiCipher.from_base64("c2hvcnQ=")
            Traceback (most recent call last):
            ...
            services.common.pii.PiiKeyError: the PII master key must be exactly 32 bytes, got 5
        """  # noqa: E501
        try:
            raw = base64.b64decode("".join(encoded.split()), validate=True)
        except (binascii.Error, ValueError):
            # Never echo the secret's text into an exception message or a log.
            raise PiiKeyError("the PII master key is not valid base64") from None
        return cls(raw, version=version, retired_keys=retired_keys)

    @property
    def version(self) -> int:
        """The key version new ciphertexts are written with."""
        return self._version

    def encrypt(self, plaintext: str, *, context: str) -> bytes:
        """AES-256-GCM encrypt, bound to ``context`` (e.g. the column name).

        The context is authenticated, so a blob copied into another column
        (or row, if the context names the row) fails to decrypt there.

        Example:
            >>> c = PiiCipher(bytes(32))
            >>> len(c.encrypt("x", context="t.c")) == 1 + 12 + 1 + 16
            True
        """
        return self.seal(plaintext.encode("utf-8"), context=context)

    def seal(self, data: bytes, *, context: str) -> bytes:
        """:meth:`encrypt` for binary data (documents such as certificates).

        Example:
            >>> c = PiiCipher(bytes(32))
            >>> c.open(c.seal(b"%PDF", context="d"), context="d")
            b'%PDF'
        """
        header = bytes([self._version])
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aeads[self._version].encrypt(
            nonce, data, header + _context(context)
        )
        return header + nonce + sealed

    def decrypt(self, blob: bytes, *, context: str) -> str:
        """Decrypt a blob from :meth:`encrypt` under the same ``context``.

        Example:
            >>> c = PiiCipher(bytes(32))
            >>> c.decrypt(c.encrypt("张三", context="v.name"), context="v.name")
            '张三'
        """
        return self.open(blob, context=context).decode("utf-8")

    def open(self, blob: bytes, *, context: str) -> bytes:
        """Decrypt a blob from :meth:`seal` under the same ``context``."""
        if len(blob) < 1 + NONCE_BYTES + TAG_BYTES:
            raise PiiDecryptionError("ciphertext is too short to be valid")
        aead = self._aeads.get(blob[0])
        if aead is None:
            raise PiiDecryptionError(f"ciphertext uses unknown key version {blob[0]}")
        nonce, sealed = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
        try:
            return aead.decrypt(nonce, sealed, blob[:1] + _context(context))
        except InvalidTag:
            raise PiiDecryptionError(
                "ciphertext failed authentication: tampered, wrong key or wrong context"
            ) from None

    def blind_index(self, value: str, *, context: str) -> str:
        """Keyed HMAC-SHA256 (hex) of the normalised value, for equality lookups.

        Each context gets its own derived key, so equal values in two
        columns do not reveal that they are equal.

        Example:
            >>> c = PiiCipher(bytes(32))
            >>> a = c.blind_index(" 1101x ", context="k")
            >>> a == c.blind_index("1101X", context="k")
            True
        """
        context_key = hmac.new(
            self._hash_key, _context(context), hashlib.sha256
        ).digest()
        message = _normalise(value).encode("utf-8")
        return hmac.new(context_key, message, hashlib.sha256).hexdigest()

    # -- many values at once (bulk imports) ------------------------------------

    def encrypt_many(self, plaintexts: Sequence[str], *, context: str) -> list[bytes]:
        """:meth:`encrypt` for many values under one context, in order: the
        same ciphertexts (each with its own random nonce, drawn from the OS
        in one read), without the per-call overhead.

        Example:
            >>> c = PiiCipher(bytes(32))
            >>> [c.decrypt(b, context="t.c") for b in c.encrypt_many(["a", "乙"],
            ...                                                       context="t.c")]
            ['a', '乙']
        """
        header = bytes([self._version])
        aad = header + _context(context)
        seal = self._aeads[self._version].encrypt
        nonces = os.urandom(NONCE_BYTES * len(plaintexts))
        out = []
        at = 0
        for text in plaintexts:
            nonce = nonces[at : at + NONCE_BYTES]
            at += NONCE_BYTES
            out.append(header + nonce + seal(nonce, text.encode("utf-8"), aad))
        return out

    def blind_index_many(self, values: Sequence[str], *, context: str) -> list[str]:
        """:meth:`blind_index` for many values under one context, in order
        (the context's key derived once).

        Example:
            >>> c = PiiCipher(bytes(32))
            >>> c.blind_index_many([" 1101x "], context="k") == [
            ...     c.blind_index("1101X", context="k")]
            True
        """
        context_key = hmac.new(
            self._hash_key, _context(context), hashlib.sha256
        ).digest()
        digest = hmac.digest
        return [
            digest(context_key, _normalise(v).encode("utf-8"), "sha256").hex()
            for v in values
        ]


def _context(context: str) -> bytes:
    if not context:
        raise ValueError("a PII context (such as 'volunteer.id_number') is required")
    return context.encode("utf-8")


def mask_id_number(value: str) -> str:
    """Show the first 4 and last 4 characters of an ID number, star the rest.

    Example:
        >>> mask_id_number("11010519491231002X")
        '1101**********002X'
    """
    value = value.strip()
    # Anything shorter than a 15-digit legacy number is not a real ID:
    # showing 8 of its characters could reveal most of it.
    if len(value) < 15:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str) -> str:
    """Show the first 3 and last 4 digits of a phone number.

    Example:
        >>> mask_phone("13812345678")
        '138****5678'
    """
    value = value.strip()
    if len(value) < 11:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_name(value: str) -> str:
    """Keep a name's first character (usually the surname), star the rest.

    Example:
        >>> mask_name("张三丰")
        '张**'
    """
    value = value.strip()
    # A one-character name would be shown whole; hide it entirely.
    if len(value) <= 1:
        return "*" * len(value)
    return value[0] + "*" * (len(value) - 1)


def mask_address(value: str) -> str:
    """Keep the first six characters (province and city, as a rule), star the
    rest: enough to tell where, not enough to find the door.

    Example:
        >>> mask_address("陕西省西安市长安区韦曲街道北街3号")
        '陕西省西安市****'
    """
    value = value.strip()
    return value[:6] + "****" if len(value) > 6 else "*" * len(value)


def validate_phone(value: str, field: str = "phone") -> str:
    """Normalise and check a mainland mobile number (11 digits, 1[3-9]...).

    Blanks, hyphens, full-width digits and a +86 / 86 prefix are accepted
    and removed.

    Example:
        >>> validate_phone("+86 138-1234-5678")
        '13812345678'
    """
    digits = re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", value or ""))
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not digits:
        raise InvalidArgument.required(field)
    if not _PHONE.fullmatch(digits):
        raise InvalidArgument(
            field,
            "phone.format",
            "must be an 11-digit mainland mobile number starting with 13-19",
            "请输入以 13–19 开头的 11 位手机号码",
        )
    return digits
