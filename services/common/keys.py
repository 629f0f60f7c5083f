"""Key material from the configuration: PEM text or base64 in the variables
(``JWT_PUBLIC_KEY``, ``JWT_PRIVATE_KEY``, ``PII_KEY``), else the dev files
that ``zhiyuan keys ensure`` writes under ``<data_dir>/keys``."""

from __future__ import annotations

from pathlib import Path

from services.common.auth import TokenIssuer, TokenVerifier
from services.common.config import Config
from services.common.pii import PiiCipher


class MissingKey(RuntimeError):
    pass


def _material(cfg: Config, key: str, filename: str, env: str) -> str:
    value = str(cfg.get(key) or "").strip()
    if value:
        return value.replace("\\n", "\n")
    path = Path(cfg.data_dir) / "keys" / filename
    if path.exists():
        return path.read_text().strip()
    raise MissingKey(
        f"{env} is not set and {path} does not exist; set {env} or run "
        f"'zhiyuan keys ensure' for development keys / 未配置 {env}"
    )


def verifier(cfg: Config) -> TokenVerifier:
    pem = _material(cfg, "jwt.public_key", "jwt-public.pem", "JWT_PUBLIC_KEY")
    return TokenVerifier(pem, cfg["jwt.issuer"], cfg["jwt.audience"])


def issuer(cfg: Config) -> TokenIssuer:
    pem = _material(cfg, "jwt.private_key", "jwt-private.pem", "JWT_PRIVATE_KEY")
    return TokenIssuer(
        pem, cfg["jwt.issuer"], cfg["jwt.audience"], int(cfg["jwt.ttl_seconds"])
    )


def pii_cipher(cfg: Config) -> PiiCipher:
    return PiiCipher.from_base64(_material(cfg, "pii_key", "pii.key", "PII_KEY"))
