import builtins
from typing import Any

from workflow.checks import pdf_libraries


def test_no_warning_when_pdfs_can_be_made():
    assert pdf_libraries() == []


def test_a_missing_pango_is_named_with_the_package_to_install(monkeypatch):
    real_import = builtins.__import__

    def without_pango(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "weasyprint":
            raise OSError("cannot load library 'libpango-1.0-0'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_pango)
    [warning] = pdf_libraries()
    assert warning.id == "workflow.W001"
    assert "apt-get install libpango-1.0-0" in (warning.hint or "")


def test_a_missing_harfbuzz_subset_is_named_with_the_package_to_install(monkeypatch):
    """Without it WeasyPrint still makes the PDFs, subsetting fonts in Python: slower,
    so a warning, not an error."""
    monkeypatch.setattr(
        "workflow.checks.find_library",
        lambda name: None if name == "harfbuzz-subset" else f"lib{name}.so",
    )
    [warning] = pdf_libraries()
    assert warning.id == "workflow.W002"
    assert "apt-get install libharfbuzz-subset0" in (warning.hint or "")
