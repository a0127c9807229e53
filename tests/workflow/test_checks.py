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
