"""Equal and faster stand-ins for Mimesis methods that templates call once a row.

``text.word()`` is ``random.choices(words, k=1)[0]``: a dataset lookup, a
one-item list and a list comprehension per call, ~1 µs; ``development.boolean()``
is ``random.choice([True, False])``, ~0.5 µs; ``address.country_code()`` checks
its enum first, ~0.35 µs. Their stand-ins make the same draws from the same
provider's generator and return the same values, ~0.1 µs each (a ``tags`` list
of words and a country in every ``org``: ~0.17 s per 100,000 documents).
Only the methods Mimesis defines get one (a subclass that overrides them keeps
its own); the standard library's ``choices`` and ``choice`` are what they copy
(CPython 3.11: ``population[floor(random() * n)]``, ``seq[_randbelow(len(seq))]``),
and a test draws each against its Mimesis method for every locale.
"""

from __future__ import annotations

from math import floor
from typing import Any, Callable

from mimesis.datasets import COUNTRY_CODES
from mimesis.enums import CountryCode
from mimesis.providers import Address, Development, Text


def faster(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` (a bound Mimesis method), or a stand-in returning the same values."""
    make = _STAND_INS.get(getattr(method, "__func__", None))
    return method if make is None else make(method.__self__)  # type: ignore[attr-defined]


def _word(text: Text) -> Callable[[], str]:
    words = text._extract(["words"])
    random, n = text.random.random, len(words) + 0.0

    def word() -> str:
        return words[floor(random() * n)]  # type: ignore[no-any-return]

    return word


def _boolean(development: Development) -> Callable[[], bool]:
    below: Callable[[int], int] = development.random._randbelow  # type: ignore[attr-defined]
    values = [True, False]

    def boolean() -> bool:
        return values[below(2)]

    return boolean


def _country_code(address: Address) -> Callable[..., str]:
    below: Callable[[int], int] = address.random._randbelow  # type: ignore[attr-defined]
    slow, codes = address.country_code, COUNTRY_CODES[CountryCode.A2.value]

    def country_code(code: CountryCode | None = CountryCode.A2) -> str:
        if code is not CountryCode.A2:
            return slow(code)  # another format, or a random one: Mimesis' own
        return codes[below(len(codes))]

    return country_code


_STAND_INS: dict[Any, Callable[[Any], Callable[..., Any]]] = {
    Text.word: _word,
    Development.boolean: _boolean,
    Address.country_code: _country_code,
}
