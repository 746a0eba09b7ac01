"""JWT access tokens from the operator's authorization server, verified without I/O.

otpgate is then an OAuth2 resource server: the signature is checked with the keys of the
server's JWKS (fetched by ``jwks_fetch``, handed in here as a document), then the issuer,
the audience and the times, with the clock passed in. A token may name the phone number
it was issued for (3-legged: the subscriber consented); the client it was issued to maps to
an otpgate tenant, so quotas, relations and isolation apply as to client credentials.
The signature itself is joserfc's, never written here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, TypeGuard

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry, Key, OctKey

from ..config_camara_jwt import CamaraJwtConfig
from .requests import E164
from .tokens import SCOPES, Token

_CACHE_LIMIT = 10_000


@dataclass(frozen=True, slots=True)
class Rejected:
    """Why a token is refused: 401 UNAUTHENTICATED, or 403 for a client not enabled here."""

    status: int
    message: str
    unknown_kid: bool = False  # a key the JWKS may have gained since it was fetched


class _UnknownKid(Exception):
    pass


class JwtVerifier:
    """The keys of the JWKS, when to fetch them again, and the check of one token."""

    def __init__(self, config: CamaraJwtConfig) -> None:
        self.config = config
        self._keys: dict[str, Key] = {}
        self.fetched_at: float | None = None  # the last good fetch: keys live from here
        self.attempted_at: float | None = None
        self.failures = 0  # consecutive failed fetches
        self.last_error: str | None = None
        self._kid_fetch_at = float("-inf")
        self._cache: dict[bytes, Token] = {}

    # The JWKS: loaded, failed, due, usable.

    def load(self, document: Any, now: float) -> str | None:
        """Take the keys of a fetched JWKS document; an error (the old keys stay) or None."""
        self.attempted_at = now
        keys: dict[str, Key] = {}
        entries = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(entries, list):
            return self._failed("not a JWKS: no keys list", now)
        for entry in entries:
            if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
                continue
            if entry.get("kty") == "oct":
                continue  # a shared secret has no business in a public key set
            try:
                key = JWKRegistry.import_key(entry)
            except (JoseError, ValueError, TypeError):
                continue  # one key of a type we do not know does not spoil the others
            if isinstance(key, OctKey):
                continue
            keys[key.kid or ""] = key
        if not keys:
            return self._failed("the JWKS holds no usable signing key", now)
        if keys.keys() != self._keys.keys():
            # A key withdrawn from the set withdraws the tokens it signed, cached or not.
            self._cache.clear()
        self._keys = keys
        self.fetched_at, self.failures, self.last_error = now, 0, None
        return None

    def failed(self, error: str, now: float) -> None:
        """A fetch that did not return a document (unreachable, timeout, HTTP error)."""
        self.attempted_at = now
        self._failed(error, now)

    def _failed(self, error: str, now: float) -> str:
        self.failures += 1
        self.last_error = error
        return error

    def next_fetch_at(self) -> float:
        """When the JWKS is due again: every jwks_refresh_s, sooner (backing off) after a failure."""
        if self.attempted_at is None:
            return float("-inf")
        if self.failures:
            return self.attempted_at + min(
                self.config.jwks_refresh_s, 2.0 ** min(self.failures, 10)
            )
        return self.attempted_at + self.config.jwks_refresh_s

    def usable(self, now: float) -> bool:
        return self.fetched_at is not None and now < self.fetched_at + self.config.jwks_expire_s

    def fetch_for_kid(self, now: float) -> bool:
        """May a token with an unknown kid fetch the JWKS now? At most once per
        kid_refetch_min_s, so that a flood of made-up kids cannot hammer the server."""
        if now - self._kid_fetch_at < self.config.kid_refetch_min_s:
            return False
        self._kid_fetch_at = now
        return True

    def health(self, now: float) -> dict[str, object]:
        """For /readyz: whether JWT tokens can be verified, and why not."""
        return {
            "keys_usable": self.usable(now),
            "keys": len(self._keys) if self.usable(now) else 0,
            "fetched_s_ago": None if self.fetched_at is None else round(now - self.fetched_at, 1),
            "last_error": self.last_error,
        }

    # One token.

    def verify(self, value: str, now: float) -> Token | Rejected:
        """The token's tenant, scopes, expiry and number, or why it is refused."""
        if not self.usable(now):
            return Rejected(401, "the authorization server's keys are not available")
        digest = hashlib.sha256(value.encode()).digest()
        cached = self._cache.get(digest)
        if cached is not None:
            if now < cached.expires_at:
                return cached
            del self._cache[digest]
        try:
            decoded = jwt.decode(value, self._key_for, algorithms=list(self.config.algorithms))
        except _UnknownKid:
            return Rejected(401, "signed with a key the authorization server does not list",
                            unknown_kid=True)  # fmt: skip
        except (JoseError, ValueError, TypeError, KeyError):
            return Rejected(401, "not a valid access token (signature, algorithm or format)")
        checked = self._claims(decoded.claims, now)
        if isinstance(checked, Token):
            self._remember(digest, checked, now)
        return checked

    def _key_for(self, obj: Any) -> Key:
        header = obj.headers()
        kid = header.get("kid")
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        key = self._keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise _UnknownKid
        alg = key.get("alg")
        if alg is not None and alg != header.get("alg"):
            # A key the JWKS pins to one algorithm is used with that one only (RFC 7517 4.4).
            raise ValueError("algorithm other than the key's")
        return key

    def _claims(self, claims: dict[str, Any], now: float) -> Token | Rejected:
        config, leeway = self.config, self.config.leeway_s
        if claims.get("iss") != config.issuer:
            return Rejected(401, "issued by another authorization server")
        audience = claims.get("aud")
        if not (audience == config.audience or
                (isinstance(audience, list) and config.audience in audience)):  # fmt: skip
            return Rejected(401, "issued for another audience")
        exp = claims.get("exp")
        if not _is_time(exp) or now >= exp + leeway:
            return Rejected(401, "expired access token")
        for name in ("nbf", "iat"):
            at = claims.get(name)
            if at is not None and (not _is_time(at) or at > now + leeway):
                return Rejected(401, f"access token not valid yet ({name})")
        client = claims.get(config.client_claim) or claims.get("azp")
        tenant = config.clients.get(client) if isinstance(client, str) else None
        if tenant is None:
            return Rejected(403, "the operator has not enabled CAMARA for this client")
        raw_scope = claims.get("scope", "")
        scope = raw_scope.split() if isinstance(raw_scope, str) else raw_scope
        scopes = frozenset(s for s in scope if isinstance(s, str)) & SCOPES
        number = phone_number_of(claims.get(config.phone_number_claim))
        if isinstance(number, Rejected):
            return number
        # The cache may keep the token up to its expiry, never past it.
        return Token(tenant, scopes, float(exp) + leeway, number)

    def _remember(self, digest: bytes, token: Token, now: float) -> None:
        if self.config.token_cache_s <= 0:
            return
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache = {d: t for d, t in self._cache.items() if t.expires_at > now}
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
        until = min(token.expires_at, now + self.config.token_cache_s)
        self._cache[digest] = Token(token.tenant, token.scopes, until, token.phone_number)


def phone_number_of(value: Any) -> str | Rejected | None:
    """The number a token names: ``tel:+E164`` (CAMARA's form) or ``+E164``. Anything else,
    an opaque subject included, names none; something that says it is a number and is not
    one is refused rather than guessed at."""
    if not isinstance(value, str):
        return None
    number = value[4:] if value.startswith("tel:") else value
    if E164.fullmatch(number):
        return number
    if value.startswith(("tel:", "+")):
        return Rejected(401, "the token's phone number is not E.164")
    return None


def _is_time(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)
