"""The console's signing keys for Security Event Tokens, read from one JWKS file
(SSF_SIGNING_KEYS_FILE) that every web and worker process reads alike: the web tier
keeps no key of its own.

- The file is a JSON Web Key Set of private keys (RSA, or EC on P-256). The first
  key signs; every key is published at the JWKS URL, public parts only.
- RS256 for an RSA key, ES256 for a P-256 key. RS256 is what the keys generated
  here use: every SSF/CAEP receiver accepts it, ES256 not all.
- Rotation: put a new key first and keep the old one after it until receivers
  have fetched the JWKS again (docs/OPERATIONS.md). Each process reads the file again
  when it changes; events are signed when they are sent, so a retried one is signed
  with the key first at that moment.
- Outside production a missing file is created on first use with a new RSA key
  (var/ssf-signing-keys.json by default). In production nothing is generated: without
  SSF_SIGNING_KEYS_FILE the transmitter is off (its endpoints answer 404 and no event
  is recorded); a file that is set but unreadable stops `manage.py check`.

joserfc does the cryptography; nothing here signs by hand.
"""

import json
import os
import tempfile
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, RSAKey

ALGORITHMS = {"RSA": "RS256", "EC": "ES256"}
SET_TYPE = "secevent+jwt"  # RFC 8417 §2.3


def enabled() -> bool:
    """Whether the console is an SSF transmitter (a key file is configured)."""
    return bool(settings.SSF_SIGNING_KEYS_FILE)


def signing_keys() -> KeySet:
    """The configured keys, first the one that signs: read again whenever the file
    changes (a rotation needs no restart), else from memory."""
    path = Path(settings.SSF_SIGNING_KEYS_FILE)
    if not path.exists() and settings.SSF_GENERATE_DEVELOPMENT_KEY:
        _generate(path)
    try:
        found = path.stat()
        version = (found.st_ino, found.st_size, found.st_mtime_ns)
    except OSError:
        version = None
    return _load(str(path), version)


@lru_cache(maxsize=4)
def _load(path: str, version: tuple | None) -> KeySet:
    return read_key_file(Path(path))


def read_key_file(path: Path) -> KeySet:
    """The key set of `path`, each key checked, or ImproperlyConfigured."""
    try:
        keys = KeySet.import_key_set(json.loads(path.read_text()))
    except (OSError, ValueError, TypeError, KeyError, JoseError) as error:
        raise ImproperlyConfigured(
            f"SSF_SIGNING_KEYS_FILE {path}: no JSON Web Key Set ({type(error).__name__})"
        ) from error
    if not keys.keys:
        raise ImproperlyConfigured(f"SSF_SIGNING_KEYS_FILE {path}: the key set is empty")
    for key in keys.keys:
        if not key.is_private or key.key_type not in ALGORITHMS:
            raise ImproperlyConfigured(
                f"SSF_SIGNING_KEYS_FILE {path}: each key must be a private RSA or P-256 key"
            )
        if isinstance(key, ECKey) and key.curve_name != "P-256":
            raise ImproperlyConfigured(f"SSF_SIGNING_KEYS_FILE {path}: EC keys must be P-256")
        key.ensure_kid()
    return keys


def new_key() -> RSAKey:
    """A new RSA signing key (2048 bits, RS256) with its thumbprint as `kid`."""
    key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256"}, private=True)
    key.ensure_kid()
    return key


def _generate(path: Path) -> None:
    """Write a key set of one new key to `path`, unless another process got there
    first (the file appears whole or not at all: written aside, then linked)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(KeySet([new_key()]).as_dict(private=True))
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False) as aside:
        aside.write(data)
    try:
        os.chmod(aside.name, 0o600)
        os.link(aside.name, path)
    except FileExistsError:
        pass
    finally:
        os.unlink(aside.name)


def public_jwks() -> dict:
    """The JWKS document: every configured key, public parts only, with kid and alg."""
    published = []
    for key in signing_keys().keys:
        public = key.as_dict(private=False)
        public.setdefault("use", "sig")
        public.setdefault("alg", ALGORITHMS[key.key_type])
        published.append(public)
    return {"keys": published}


def sign(claims: dict) -> str:
    """The claims as a signed SET (compact JWS), by the first configured key."""
    key = signing_keys().keys[0]
    header = {"alg": ALGORITHMS[key.key_type], "kid": key.kid, "typ": SET_TYPE}
    return jwt.encode(header, claims, key)


def check() -> None:
    """Load the configured keys now (a system check), raising ImproperlyConfigured."""
    if enabled():
        signing_keys()
