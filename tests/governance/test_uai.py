import pytest
from django.core.exceptions import ValidationError

from governance.uai import uai_check_letter, validate_uai


@pytest.mark.parametrize("code", ["0750654D", "0750652B", "0210015C", "0211234C"])
def test_valid_uai_codes_are_accepted(code):
    validate_uai(code)


def test_check_letter_follows_the_modulo_23_rule():
    assert uai_check_letter("0750654") == "D"
    assert uai_check_letter("0750652") == "B"
    assert uai_check_letter("0210015") == "C"
    assert uai_check_letter("0211234") == "C"


def test_wrong_check_letter_is_refused_with_the_expected_letter():
    with pytest.raises(ValidationError) as excinfo:
        validate_uai("0211234A")
    error = excinfo.value.error_list[0]
    assert error.code == "uai_check_letter"
    message = error.message % error.params
    assert "lettre de contrôle devrait être « C »" in message
    assert "0211234C" in message


@pytest.mark.parametrize(
    "code",
    [
        "0210015",  # 7 characters
        "0210015c",  # lowercase check letter
        "0210015CC",  # 9 characters
        "021001AC",  # a letter among the digits
        "",
    ],
)
def test_malformed_codes_are_refused_with_a_french_message(code):
    with pytest.raises(ValidationError) as excinfo:
        validate_uai(code)
    error = excinfo.value.error_list[0]
    assert error.code == "uai_format"
    assert "7 chiffres suivis d'une lettre majuscule" in error.message % error.params
