from __future__ import annotations

import datetime as dt
import random
import string
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError as StdnumError

from creditgov.core.errors import InvalidInput
from creditgov.subjects.identifiers import (
    clean_resident_id,
    clean_uscc,
    is_canonical_resident_id,
    is_canonical_uscc,
    looks_like_resident_id,
    uscc_check_char,
    validate_resident_id,
)


def test_valid_codes_pass() -> None:
    assert clean_uscc("91330522MA2B00010N") == "91330522MA2B00010N"
    assert clean_resident_id("330522199005120021") == "330522199005120021"


@pytest.mark.parametrize(("value", "why"), [
    ("91330522MA2B000100", "checksum"), ("9133052", "length"), ("330522199005120022", "checksum"),
])
def test_bad_codes_are_rejected_with_the_reason(value: str, why: str) -> None:
    fn = clean_uscc if value.startswith("9") else clean_resident_id
    with pytest.raises(InvalidInput, match=why):
        fn(value)


def test_more_kinds_by_configuration(tmp_path, monkeypatch) -> None:
    from creditgov.subjects.schemas import kinds

    assert "cooperative" not in kinds()
    f = tmp_path / "kinds.yaml"
    f.write_text("version: local-1\nkinds:\n"
                 "  - {code: enterprise, name_zh: 企业, name_en: Enterprise, identifier: uscc}\n"
                 "  - {code: cooperative, name_zh: 农民专业合作社, name_en: Farmers' cooperative, identifier: uscc}\n",
                 "utf-8")
    monkeypatch.setenv("CREDITGOV_KINDS_FILE", str(f))
    assert kinds()["cooperative"].identifier == "uscc"


# --------------------------------------------------------------------------- the fast checks pinned to stdnum
#
# subjects/identifiers.py keeps fast copies of python-stdnum's USCC rules and of its own
# GB 11643 resident-ID rule (`validate_resident_id`: stdnum's, less the area-code start
# year; ingestion checks every row with them). These tests hold the copies to those
# answers on hand-picked and a few thousand generated values, so they can never drift.

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# Birth places with and without validity periods in stdnum's table: 110103 until 2010,
# 110111 from 1986, 110112 from 1997, 330127 none at all; 999999 and 000000 are unknown.
_PLACES = ("110101", "110103", "110111", "110112", "330127", "330522", "440300", "999999", "000000")
# Characters a damaged identifier may pick up: letters outside the USCC alphabet,
# lower case, separators stdnum strips, full-width forms stdnum folds to ASCII.
_NOISE = "0123456789XxABCDEFGHJKLMNPQRTUWXYIOSVZaioz -.０１９Ｘｘ\u3000\t"
_HAND_PICKED_USCC = (
    "91110000600037341L", "91330522MA2B00010N", "91330522MA2B000100", "91330522ma2b00010n",
    "91330522MA2B00010", "91330522MA2B00010NN", " 91330522MA2B00010N", "91330522-MA2B00010N",
    "9133052IMA2B00010N", "A1110000600037341L", "９1110000600037341L", "", "000000000000000000",
    "00000000000000000Y",
)
_HAND_PICKED_RESIDENT_IDS = (
    "330522199005120021", "330522199005120022", "110103199001010018", "110103201501010014",
    "110111198001010013", "110111199001010018", "33012719900101001X", "33012719900101001x",
    "999999199001010016", "110101200002290018", "110101190002290011", "110101199013010010",
    "110101199001000010", "110101000001010010", "11010119900101001", "1101011990010100188",
    "11010119900101001 8", "110101-199001010018", "１10101199001010018", "110001200001010007",
    " 110001200001010007",
)


def _stdnum_keeps(validate: Callable[[str], str], v: str) -> bool:
    """Whether stdnum's `validate` accepts `v` and returns it unchanged (its canonical form).
    stdnum's ric raises KeyError('county') for an ID number whose place is a known province
    without a county in its table (e.g. 110001...): that is a rejection too, as
    subjects/identifiers.py treats it."""
    try:
        return validate(v) == v
    except StdnumError:
        return False
    except KeyError as exc:
        if exc.args != ("county",):
            raise
        return False


def _agree(fast: Callable[[str], bool], validate: Callable[[str], str], v: str) -> None:
    """The fast check says True exactly when stdnum keeps `v` as it is (on a value stdnum
    would have to clean up first, the fast check says False: the caller then asks stdnum
    itself), and never raises."""
    assert fast(v) == _stdnum_keeps(validate, v), v


@st.composite
def _valid_usccs(draw: st.DrawFn) -> str:
    body = draw(st.text(string.digits, min_size=8, max_size=8)) + draw(
        st.text(_USCC_ALPHABET, min_size=9, max_size=9))
    return body + uscc.calc_check_digit(body)


@st.composite
def _valid_resident_ids(draw: st.DrawFn) -> str:
    place = draw(st.one_of(st.sampled_from(_PLACES), st.text(string.digits, min_size=6, max_size=6)))
    born = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2030, 12, 31)))
    body = place + born.strftime("%Y%m%d") + draw(st.text(string.digits, min_size=3, max_size=3))
    return body + ric.calc_check_digit(body + "0")


@st.composite
def _damaged(draw: st.DrawFn, valid: st.SearchStrategy[str]) -> str:
    """A valid identifier, left alone or damaged the way files damage them."""
    v = draw(valid)
    i = draw(st.integers(0, len(v) - 1))
    c = draw(st.sampled_from(_NOISE))
    how = draw(st.integers(0, 8))
    return [
        v, v, v[:i] + c + v[i + 1:], v[:i] + v[i + 1:], v[:i] + c + v[i:], v.lower(), f" {v}", v + c,
        v[:6] + draw(st.sampled_from(["0000", "1899", "1985", "1986", "2010", "2011", "9999"])) + v[10:],
    ][how]


_SETTINGS = settings(max_examples=2000, derandomize=True, database=None, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(st.one_of(_damaged(_valid_usccs()), st.text(_NOISE, min_size=16, max_size=19)))
def test_fast_uscc_check_agrees_with_stdnum(v: str) -> None:
    _agree(is_canonical_uscc, uscc.validate, v)


@_SETTINGS
@given(st.one_of(_damaged(_valid_resident_ids()), st.text("0123456789Xx ", min_size=17, max_size=19)))
def test_fast_resident_id_check_agrees_with_stdnum(v: str) -> None:
    _agree(is_canonical_resident_id, validate_resident_id, v)


@pytest.mark.parametrize("v", _HAND_PICKED_USCC + _HAND_PICKED_RESIDENT_IDS)
def test_fast_checks_agree_with_stdnum_on_hand_picked_values(v: str) -> None:
    _agree(is_canonical_uscc, uscc.validate, v)
    _agree(is_canonical_resident_id, validate_resident_id, v)


@pytest.mark.parametrize("v", ["110001200001010007", " 110001200001010007", "33990019900101001１"])
def test_a_birth_place_that_names_no_county_is_rejected_with_the_reason(v: str) -> None:
    """A known province followed by digits that name no county: the fast check and the
    stdnum-based checks all reject it, and the reason names the place code."""
    assert not is_canonical_resident_id(v)
    assert not looks_like_resident_id(v)
    with pytest.raises(InvalidInput, match=rf"birth place code {v.strip()[:6]} is not a known county"):
        clean_resident_id(v)


@_SETTINGS
@given(st.text(_USCC_ALPHABET, min_size=17, max_size=17))
def test_uscc_check_char_is_stdnums(body17: str) -> None:
    assert uscc_check_char(body17) == uscc.calc_check_digit(body17)
    assert is_canonical_uscc(body17 + uscc_check_char(body17)) == body17[:8].isdigit()


@pytest.mark.parametrize("body17", ["9111000060003734", "911100006000373411", "9111000060003734I", "911100006000373a"])
def test_uscc_check_char_refuses_a_malformed_body(body17: str) -> None:
    with pytest.raises(ValueError):
        uscc_check_char(body17)


def test_the_sweep_meets_both_answers_often() -> None:
    """The generated values are not all valid or all invalid: a seeded sweep of the same
    kind of damage meets thousands of each, and the fast checks agree on every one."""
    rnd = random.Random(13)
    seen = {True: 0, False: 0}
    for _ in range(3000):
        body = "".join(rnd.choice(string.digits) for _ in range(8)) + "".join(
            rnd.choice(_USCC_ALPHABET) for _ in range(9))
        born = dt.date(1900, 1, 1) + dt.timedelta(days=rnd.randrange(47_000))
        rid = rnd.choice(_PLACES) + born.strftime("%Y%m%d") + f"{rnd.randrange(1000):03d}"
        for v, fast, validate in ((body + uscc.calc_check_digit(body), is_canonical_uscc, uscc.validate),
                                  (rid + ric.calc_check_digit(rid + "0"), is_canonical_resident_id, validate_resident_id)):
            if rnd.random() < 0.5:
                i = rnd.randrange(len(v))
                v = v[:i] + rnd.choice(_NOISE) + v[i + 1:]
            _agree(fast, validate, v)
            seen[_stdnum_keeps(validate, v) is True] += 1
    assert min(seen.values()) > 1000, seen


# --------------------------------------------------------------------------- GB 11643 against stdnum

def _rid(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


def test_an_area_code_newer_than_the_birth_is_valid_under_gb_11643() -> None:
    """Tongzhou district (110112) got its code in 1997; someone born in 1974 and first
    registered there carries it. stdnum refuses the number; GB 11643 does not."""
    v = _rid("11011219740506001")
    assert not ric.is_valid(v)
    assert validate_resident_id(v) == v
    assert clean_resident_id(v) == v and looks_like_resident_id(v) and is_canonical_resident_id(v)


def test_the_same_number_with_a_bad_check_digit_is_still_refused() -> None:
    v = _rid("11011219740506001")
    bad = v[:17] + ("0" if v[17] != "0" else "1")
    assert not is_canonical_resident_id(bad) and not looks_like_resident_id(bad)
    with pytest.raises(InvalidInput, match="checksum"):
        clean_resident_id(bad)


@pytest.mark.parametrize(("body17", "why"), [
    ("11010319900230001", "birth date 19900230 is not a real date"),            # 30 February: no such birth date
    ("99999919900101001", "not a known county"),   # an area code no table knows
    ("11010320150101001", "retired before 2015"),  # Chongwen district's code ended in 2010
])
def test_the_checks_of_stdnum_that_are_right_are_kept(body17: str, why: str) -> None:
    v = _rid(body17)
    assert not is_canonical_resident_id(v) and not looks_like_resident_id(v)
    with pytest.raises(InvalidInput, match=why):
        clean_resident_id(v)


@_SETTINGS
@given(_damaged(_valid_resident_ids()))
def test_gb_11643_differs_from_stdnum_only_on_the_area_codes_start(v: str) -> None:
    """Where stdnum accepts, so does validate_resident_id; where only it accepts, the
    number's birth year is before the year its area code came into use."""
    ours = _stdnum_keeps(validate_resident_id, v)
    theirs = _stdnum_keeps(ric.validate, v)
    if theirs:
        assert ours
    elif ours:
        # the area code came into use in a later year: stdnum accepts the same person
        # born then (the period in stdnum's table is the only difference)
        born = int(v[6:10])
        assert any(ric.is_valid(_rid(v[:6] + f"{y}0101" + v[14:17])) for y in range(born + 1, 2031)), v
