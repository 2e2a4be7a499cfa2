"""An organisation (tenant) of the control plane: the root of every other entity."""

import re
import zlib
from functools import lru_cache
from typing import Any

from anyascii import anyascii

from datagen.documents import DocumentProvider
from datagen.schema import FieldFactory
from datagen.specs import DECORATIONS

TLDS = ["com", "com", "com", "io", "net", "co", "org"]
_ENDINGS = tuple(f"-{word.lower()}" for word in DECORATIONS)
_DECORATED = frozenset(DECORATIONS)


@lru_cache(maxsize=4096)
def slug(text: str) -> str:
    """``text`` in lowercase ASCII letters and digits, words joined by ``-``."""
    return re.sub(r"[^a-z0-9]+", "-", anyascii(text).lower()).strip("-")


def company_names(generic: Any) -> list[str]:
    """The locale's company names, one per domain they would give (see ``domain_of``).

    Names whose slug another name has, that a decorated name could become
    ("… Group", "… 2"), or that have no letter or digit are left out, so that
    distinct names always give distinct domains.
    """
    names: list[str] = generic.finance._extract(["company", "name"])  # Mimesis' own list
    kept, seen = [], set()
    for name in names:
        key = slug(name)
        last = key.rsplit("-", 1)[-1]
        if not key or key in seen or key.endswith(_ENDINGS) or last.isdigit():
            continue
        seen.add(key)
        kept.append(name)
    return kept


def domain_of(name: str) -> str:
    """The org's domain, from its name: ``acme-labs.io`` (distinct names, distinct domains)."""
    base, decoration = split_decoration(name)
    return _domain(base) + decoration.lower().replace(" ", "-") + _tld(base)


def split_decoration(name: str) -> tuple[str, str]:
    """``("Acme", " Labs 2")`` from "Acme Labs 2": a pool's name and what a round added."""
    head, _, last = name.rpartition(" ")
    if last.isdigit():
        base, _, word = head.rpartition(" ")
        if word in _DECORATED and base:
            return base, name[len(base) :]
    elif last in _DECORATED and head:
        return head, name[len(head) :]
    return name, ""


@lru_cache(maxsize=4096)
def _domain(base: str) -> str:
    return slug(base)


@lru_cache(maxsize=4096)
def _tld(base: str) -> str:
    """The name's top-level domain (``.com`` mostly): the same for all its rounds."""
    return "." + TLDS[zlib.crc32(slug(base).encode()) % len(TLDS)]


def billing_email(domain: str) -> str:
    return f"billing@{domain}"


class Org(DocumentProvider):
    """An organisation (tenant) of the control plane."""

    name = "org"
    key = "id"
    unique = ("name", "domain")

    def create_schema(self, _: FieldFactory) -> dict[str, Any]:
        return {
            "id": _.key(),
            # The locale's real company names, each once, then "… Holdings", "… Group", …
            "name": _.unique_choice(company_names),
            "domain": _.derive(domain_of, "name"),
            "plan": _.weighted({"FREE": 0.55, "TEAM": 0.3, "ENTERPRISE": 0.15}),
            "status": _.weighted({"ACTIVE": 0.92, "SUSPENDED": 0.05, "DELETED": 0.03}),
            "country": _("address.country_code"),
            "billing_email": _.derive(billing_email, "domain"),
            "seats": _.integer(1, 500),
            "created_at": _.timestamp(days=(30, 2000)),
            "settings": {
                "sso_enabled": _("development.boolean"),
                "timezone": _.choice(
                    [
                        "UTC",
                        "America/New_York",
                        "Europe/London",
                        "Europe/Berlin",
                        "Asia/Tokyo",
                        "Asia/Kolkata",
                    ]
                ),
                "retention_days": _.choice([30, 90, 180, 365]),
            },
            "tags": _.list_of(_("text.word"), 0, 3),
        }
