from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from governance.imp import (
    IMP_RATES,
    check_envelope,
    decharge_amount,
    format_euros,
    recognition_amount,
    validate_imp_amount,
    validate_recognition,
)


def _code(excinfo: pytest.ExceptionInfo[ValidationError]) -> str:
    return excinfo.value.error_list[0].code or ""


def test_the_five_rates_of_the_arrete_are_valid_amounts():
    assert [str(r) for r in IMP_RATES] == ["312.50", "625.00", "1250.00", "2500.00", "3750.00"]
    for rate in IMP_RATES:
        validate_imp_amount(rate)


@pytest.mark.parametrize("amount", ["937.50", "1562.50", "312.5", 1875])
def test_shared_imp_in_quarter_multiples_is_valid(amount):
    validate_imp_amount(amount)


@pytest.mark.parametrize("amount", ["100", "1000.00", "312.49", "1300"])
def test_non_quarter_amounts_are_refused(amount):
    with pytest.raises(ValidationError) as excinfo:
        validate_imp_amount(amount)
    assert _code(excinfo) == "imp_not_quarter_multiple"
    assert "multiple de 312,50" in str(excinfo.value)


@pytest.mark.parametrize("amount", ["0", "-312.50"])
def test_zero_or_negative_amounts_are_refused(amount):
    with pytest.raises(ValidationError) as excinfo:
        validate_imp_amount(amount)
    assert _code(excinfo) == "imp_not_positive"


def test_a_non_number_is_refused_clearly():
    with pytest.raises(ValidationError) as excinfo:
        validate_imp_amount("mille euros")
    assert _code(excinfo) == "not_a_number"


def test_imp_and_decharge_are_never_both_given_to_one_person():
    with pytest.raises(ValidationError) as excinfo:
        validate_recognition(Decimal("1250"), Decimal("1"))
    assert _code(excinfo) == "imp_and_decharge"
    with pytest.raises(ValidationError) as excinfo:
        validate_recognition(None, None)
    assert _code(excinfo) == "recognition_missing"


def test_decharge_hours_count_at_the_default_rate():
    assert decharge_amount(Decimal("1")) == Decimal("1250.00")
    assert decharge_amount(Decimal("1.5")) == Decimal("1875.00")
    assert recognition_amount(None, Decimal("2")) == Decimal("2500.00")
    assert recognition_amount(Decimal("625"), None) == Decimal("625.00")


def test_decharge_rate_is_a_setting(settings):
    settings.DECHARGE_HOUR_RATE = Decimal("1080.00")
    assert decharge_amount(Decimal("2")) == Decimal("2160.00")
    assert recognition_amount(None, Decimal("1")) == Decimal("1080.00")


@pytest.mark.parametrize("hours", ["0", "-1", "0.001"])
def test_bad_decharge_hours_are_refused(hours):
    with pytest.raises(ValidationError):
        validate_recognition(None, Decimal(hours))


def test_envelope_above_the_maximum_is_a_blocking_error():
    findings = check_envelope([Decimal("2500"), Decimal("1562.50")])
    assert [(f.code, f.blocking) for f in findings] == [("above_envelope_maximum", True)]
    assert "4\u202f062,50\u00a0€" in findings[0].message


def test_envelope_below_the_minimum_is_a_warning():
    findings = check_envelope([Decimal("625")])
    assert [(f.code, f.blocking) for f in findings] == [("below_envelope_minimum", False)]


@pytest.mark.parametrize(
    "amounts", [["1250"], ["3750"], ["1250", "1250", "1250"], ["625", "625", "1875"]]
)
def test_envelope_within_bounds_raises_nothing(amounts):
    assert check_envelope([Decimal(a) for a in amounts]) == []


def test_envelope_counts_decharge_at_the_configured_rate():
    # 2 500 € of IMP plus one weekly hour (1 250 €): exactly the maximum.
    amounts = [recognition_amount(Decimal("2500"), None), recognition_amount(None, Decimal("1"))]
    assert check_envelope(amounts) == []
    amounts.append(recognition_amount(None, Decimal("0.25")))
    assert check_envelope(amounts)[0].code == "above_envelope_maximum"


def test_envelope_bounds_are_settings(settings):
    settings.IMP_ENVELOPE_MIN = Decimal("625.00")
    assert check_envelope([Decimal("625")]) == []


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        ("1250", "1\u202f250,00\u00a0€"),
        ("312.5", "312,50\u00a0€"),
        ("3750.00", "3\u202f750,00\u00a0€"),
        ("1234567.891", "1\u202f234\u202f567,89\u00a0€"),
        ("0", "0,00\u00a0€"),
    ],
)
def test_amounts_are_shown_the_french_way(amount, shown):
    assert format_euros(Decimal(amount)) == shown


def test_one_person_never_receives_more_than_the_whole_envelope():
    validate_imp_amount("3750.00")
    with pytest.raises(ValidationError) as excinfo:
        validate_imp_amount("4062.50")  # a quarter multiple, but above the envelope
    assert _code(excinfo) == "imp_too_large"


def test_a_decharge_never_exceeds_a_full_weekly_service():
    validate_recognition(None, Decimal("18"))
    with pytest.raises(ValidationError) as excinfo:
        validate_recognition(None, Decimal("18.5"))
    assert _code(excinfo) == "decharge_too_large"
