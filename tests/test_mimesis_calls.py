"""The stand-ins for Mimesis methods return what Mimesis does and leave the same random state."""

from __future__ import annotations

import pytest
from mimesis import Generic
from mimesis.enums import CountryCode
from mimesis.locales import Locale
from mimesis.providers import Text

from datagen.mimesis_calls import faster

METHODS = ["text.word", "development.boolean", "address.country_code"]


def method_of(generic: Generic, path: str):
    provider, _, name = path.partition(".")
    return getattr(getattr(generic, provider), name)


@pytest.mark.parametrize("path", METHODS)
@pytest.mark.parametrize("locale", [item.value for item in Locale])
def test_a_stand_in_draws_what_mimesis_draws(locale: str, path: str) -> None:
    ours, theirs = Generic(Locale(locale), seed=7), Generic(Locale(locale), seed=7)
    fast, slow = faster(method_of(ours, path)), method_of(theirs, path)
    assert fast is not slow
    assert [fast() for _ in range(3000)] == [slow() for _ in range(3000)]
    provider, _, _ = path.partition(".")
    assert getattr(ours, provider).random.random() == getattr(theirs, provider).random.random()


@pytest.mark.parametrize("code", [None, *CountryCode])
def test_country_codes_in_every_format_are_mimesis_own(code) -> None:
    ours, theirs = Generic(seed=3), Generic(seed=3)
    fast = faster(ours.address.country_code)
    drawn = [fast(code) for _ in range(200)] + [fast(code=code) for _ in range(200)]
    expected = [theirs.address.country_code(code) for _ in range(400)]
    assert drawn == expected


def test_a_reseeded_provider_is_followed() -> None:
    generic = Generic(Locale.EN, seed=1)
    word = faster(generic.text.word)
    generic.text.reseed(5)
    drawn = [word() for _ in range(50)]
    generic.text.reseed(5)
    assert drawn == [generic.text.word() for _ in range(50)]


def test_an_overridden_method_is_kept() -> None:
    class Shouting(Text):
        def word(self) -> str:
            return super().word().upper()

    method = Shouting(seed=1).word
    assert faster(method) is method
    assert faster(Generic(seed=1).person.email).__func__ is type(Generic().person).email
