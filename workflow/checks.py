"""System checks: say plainly what the machine lacks, rather than fail later."""

from __future__ import annotations

from ctypes.util import find_library
from typing import Any

from django.core.checks import CheckMessage, Error, Warning, register

from workflow.audit.pdf import HARFBUZZ_SUBSET_HINT, PANGO_HINT


@register()
def pdf_libraries(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """PDFs (archives, signed letters) need Pango. Without it everything else works,
    and archives wait, retried by the sweep, until the library is installed."""
    try:
        import weasyprint  # noqa: F401
    except OSError as exc:
        return [
            Warning(
                "Les PDF ne peuvent pas être produits : WeasyPrint ne trouve pas Pango.",
                hint=f"{PANGO_HINT} ({exc})",
                id="workflow.W001",
            )
        ]
    if find_library("harfbuzz-subset") is None:
        # WeasyPrint then subsets the fonts with fontTools, in Python: every archive
        # PDF takes about four times as long.
        return [
            Warning(
                "Les PDF sont lents à produire : la bibliothèque HarfBuzz-Subset manque.",
                hint=HARFBUZZ_SUBSET_HINT,
                id="workflow.W002",
            )
        ]
    return []


@register(deploy=True)
def seal_configured(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Production seals the letters in force with the service's own certificate and an
    RFC 3161 authority's timestamps: without both, a letter would leave unsealed, or
    sealed by a development key nobody trusts. A PKCS#12 that cannot be opened is
    refused too."""
    from django.conf import settings

    from workflow.audit import seal

    errors: list[CheckMessage] = []
    if not settings.SEAL_PKCS12_PATH:
        errors.append(
            Error(
                "Le cachet du service n'est pas configuré : SEAL_PKCS12_PATH est vide / "
                "The service's seal is not configured: SEAL_PKCS12_PATH is empty.",
                hint="Set SEAL_PKCS12_PATH and SEAL_PKCS12_PASSPHRASE (README: the sealed letter).",
                id="workflow.E010",
            )
        )
    else:
        try:
            seal.seal_key()
        except seal.SealUnavailable as exc:
            errors.append(
                Error(
                    f"Le cachet du service ne peut pas être chargé / The service's seal "
                    f"cannot be loaded: {exc}",
                    hint="Check SEAL_PKCS12_PATH and SEAL_PKCS12_PASSPHRASE.",
                    id="workflow.E011",
                )
            )
    if not settings.SEAL_TSA_URL:
        errors.append(
            Error(
                "L'autorité d'horodatage n'est pas configurée : SEAL_TSA_URL est vide / "
                "The timestamp authority is not configured: SEAL_TSA_URL is empty.",
                hint="Set SEAL_TSA_URL to an RFC 3161 timestamp authority's URL.",
                id="workflow.E012",
            )
        )
    else:
        from workflow.audit.timestamps import tsa_trust_roots

        try:
            tsa_trust_roots()
        except (seal.SealUnavailable, OSError, ValueError) as exc:
            errors.append(
                Error(
                    "Les certificats racines de l'autorité d'horodatage manquent ou ne se "
                    f"lisent pas / The timestamp authority's root certificates are missing "
                    f"or unreadable: {exc}",
                    hint="Set SEAL_TSA_TRUST_ROOTS to a PEM file of the authority's roots.",
                    id="workflow.E013",
                )
            )
    return errors
