"""Country tables: MCC -> country, E.164 prefix -> country (agreeing with phonenumbers), land neighbours."""

from __future__ import annotations

import random
import timeit

import phonenumbers
import pytest
from phonenumbers import PhoneNumberType

from gateway.signals.countries import (
    MCC_COUNTRY,
    NEIGHBOURS,
    are_neighbours,
    country_of_e164,
    country_of_mcc,
)

# Codes that are not ISO 3166-1 officially but are in common use: Kosovo.
_USER_ASSIGNED = {"XK"}
_REGIONS = set(phonenumbers.SUPPORTED_REGIONS) | _USER_ASSIGNED


@pytest.mark.parametrize(
    ("mcc", "country"),
    [
        ("234", "GB"),
        ("235", "GB"),
        ("208", "FR"),
        ("460", "CN"),
        ("461", "CN"),
        ("454", "HK"),
        ("455", "MO"),
        ("404", "IN"),
        ("405", "IN"),
        ("406", "IN"),
        ("302", "CA"),
        ("334", "MX"),
        ("440", "JP"),
        ("724", "BR"),
        ("655", "ZA"),
        ("742", "GF"),
        ("901", None),
        ("001", None),
        ("999", None),
    ],
)
def test_country_of_mcc(mcc: str, country: str | None) -> None:
    assert country_of_mcc(mcc) == country


@pytest.mark.parametrize("mcc", ["310", "311", "312", "313", "314", "315", "316"])
def test_all_of_310_to_316_are_the_united_states(mcc: str) -> None:
    assert country_of_mcc(mcc) == "US"


def test_mcc_table_is_sane() -> None:
    assert len(MCC_COUNTRY) > 230
    assert all(
        (len(m) == 3 and m.isdigit() and m[0] in "234567") or m == "995" for m in MCC_COUNTRY
    )
    assert set(MCC_COUNTRY.values()) <= _REGIONS
    # Every country with a calling code of its own big enough to have mobile networks is there.
    for country in ("DE", "NG", "ID", "AR", "AU", "NZ", "EG", "KZ", "UZ", "TW", "KP", "SS"):
        assert country in MCC_COUNTRY.values()


@pytest.mark.parametrize(
    ("number", "country"),
    [
        ("+447400123123", "GB"),
        ("447400123123", "GB"),
        ("+441534123456", "JE"),
        ("+447781123456", "GG"),
        ("+441624123456", "IM"),
        ("+12125550123", "US"),
        ("+14165550123", "CA"),
        ("+18765550123", "JM"),
        ("+17875550123", "PR"),
        ("+74951234567", "RU"),
        ("+77012345678", "KZ"),
        ("+390669812345", "VA"),
        ("+390212345678", "IT"),
        ("+8613800138001", "CN"),
        ("+85291234567", "HK"),
        ("+85366123456", "MO"),
        ("+525512345678", "MX"),
        ("+262269123456", "YT"),
        ("+262262123456", "RE"),
        ("+5999123456", "CW"),
        ("+5997123456", "BQ"),
        ("+80012345678", None),
        ("+882130000000", None),
        ("+999123", None),
        ("", None),
        ("+", None),
    ],
)
def test_country_of_e164(number: str, country: str | None) -> None:
    assert country_of_e164(number) == country


_TYPES = (
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.MOBILE,
    PhoneNumberType.TOLL_FREE,
    PhoneNumberType.PREMIUM_RATE,
    PhoneNumberType.SHARED_COST,
    PhoneNumberType.VOIP,
    PhoneNumberType.PERSONAL_NUMBER,
    PhoneNumberType.PAGER,
    PhoneNumberType.UAN,
    PhoneNumberType.VOICEMAIL,
)


def test_agrees_with_phonenumbers_on_every_example_number() -> None:
    checked = 0
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in _TYPES:
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
            assert country_of_e164(e164) == phonenumbers.region_code_for_number(example), e164
            checked += 1
    assert checked > 1000


def test_agrees_with_phonenumbers_on_random_valid_numbers_of_shared_codes() -> None:
    rng = random.Random(11)
    shared = [c for c, r in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items() if len(r) > 1]
    checked = 0
    for _ in range(40000):
        code = rng.choice(shared)
        national = str(rng.randrange(10**6, 10**10))
        number = phonenumbers.parse(f"+{code}{national}")
        if not phonenumbers.is_valid_number(number):
            continue
        checked += 1
        assert country_of_e164(f"+{code}{national}") == phonenumbers.region_code_for_number(number)
    assert checked > 1000


def test_country_of_e164_is_fast() -> None:
    # Not a benchmark: a guard against a phonenumbers.parse (10-15 µs) slipping into the path.
    per_call = (
        min(timeit.repeat(lambda: country_of_e164("+447400123123"), number=2000, repeat=5)) / 2000
    )
    assert per_call < 5e-6


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("FR", "ES"),
        ("FR", "DE"),
        ("FR", "BE"),
        ("FR", "CH"),
        ("FR", "IT"),
        ("ES", "PT"),
        ("DE", "PL"),
        ("AT", "HU"),
        ("GB", "IE"),
        ("US", "CA"),
        ("US", "MX"),
        ("CN", "HK"),
        ("CN", "MO"),
        ("CN", "RU"),
        ("CN", "IN"),
        ("CN", "KP"),
        ("IN", "PK"),
        ("IN", "BD"),
        ("RU", "UA"),
        ("RU", "KZ"),
        ("TH", "MY"),
        ("BR", "AR"),
        ("ZA", "ZW"),
        ("NG", "BJ"),
        ("EG", "SD"),
        ("KE", "TZ"),
        ("HT", "DO"),
        ("GF", "BR"),
        ("ES", "MA"),
        ("IL", "PS"),
    ],
)
def test_land_neighbours_both_ways(a: str, b: str) -> None:
    assert are_neighbours(a, b)
    assert are_neighbours(b, a)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("CN", "GB"),
        ("CN", "JP"),
        ("US", "CU"),
        ("FR", "FR"),
        ("ES", "IT"),
        ("IN", "LK"),
        ("AU", "NZ"),
    ],
)
def test_not_neighbours(a: str, b: str) -> None:
    assert not are_neighbours(a, b)


def test_neighbour_table_is_sane() -> None:
    countries = {pair[:2] for pair in NEIGHBOURS}
    assert countries <= _REGIONS
    assert len(NEIGHBOURS) > 600  # each pair twice
    assert all(pair[2:] + pair[:2] in NEIGHBOURS for pair in NEIGHBOURS)
    # China's 14 land neighbours plus Hong Kong and Macao.
    china = {pair[2:] for pair in NEIGHBOURS if pair.startswith("CN")}
    assert china == {
        "AF",
        "BT",
        "HK",
        "IN",
        "KG",
        "KP",
        "KZ",
        "LA",
        "MM",
        "MN",
        "MO",
        "NP",
        "PK",
        "RU",
        "TJ",
        "VN",
    }
