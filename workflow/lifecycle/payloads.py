"""What each transition takes, validated with Django forms so that the API and the
pages get the same French messages (the API's serializer of a payload only documents
it). A form only checks shapes and types; the rules that need the letter are in the
transitions' families (``workflow.lifecycle``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from workflow.models import OpinionValue

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise

# No council has more members than this: larger numbers are typing errors.
VOTES = 1000


def _count(label: StrOrPromise) -> forms.IntegerField:
    """A count of members or votes, optional."""
    return forms.IntegerField(label=label, required=False, min_value=0, max_value=VOTES)


class NoPayload(forms.Form):
    pass


class ReasonPayload(forms.Form):
    reason = forms.CharField(label=_("Motif"), max_length=4000, strip=True)


class OptionalReasonPayload(forms.Form):
    reason = forms.CharField(label=_("Motif"), max_length=4000, strip=True, required=False)


class SubmitPayload(forms.Form):
    meeting = forms.IntegerField(
        label=_("Séance du conseil pédagogique"), required=False, min_value=1
    )


class OpinionPayload(forms.Form):
    meeting = forms.IntegerField(label=_("Séance"), min_value=1)
    opinion = forms.ChoiceField(label=_("Avis"), choices=OpinionValue.choices)
    votes_for = _count(_("Pour"))
    votes_against = _count(_("Contre"))
    abstentions = _count(_("Abstentions"))
    not_voting = _count(_("Ne prennent pas part au vote"))
    members_present = _count(_("Membres présents"))
    remarks = forms.CharField(label=_("Observations"), required=False, max_length=8000)
    votes_confirmed = forms.BooleanField(
        label=_("Le conseil a bien rendu cet avis, malgré le décompte des voix"), required=False
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("opinion") == OpinionValue.RESERVE and not data.get("remarks"):
            self.add_error("remarks", _("Un avis réservé s'accompagne de ses observations."))
        return data


class ShownVersionPayload(forms.Form):
    """The sha256 of the version the person was shown: what they agree to, or sign."""

    snapshot_sha256 = forms.CharField(
        label=_("Empreinte de la version présentée"),
        validators=[RegexValidator(r"^[0-9a-f]{64}$", _("Une empreinte SHA-256 en hexadécimal."))],
    )


# A scanned signed letter is a few pages: anything larger is not one (or needs shrinking).
SCAN_MAX_BYTES = 10 * 1024 * 1024
PDF_MAGIC = b"%PDF-"


class _UploadedFileInput(forms.FileInput):
    """A file from the form's files (a page, the API's multipart body) or, when the
    engine hands the payload over as one mapping, from its data."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        return files.get(name) or data.get(name)


class ScanField(forms.FileField):
    """The scan of a page signed by hand: a PDF (its first bytes say so, whatever its
    name), of at most ``SCAN_MAX_BYTES``."""

    widget = _UploadedFileInput

    def clean(self, data: Any, initial: Any = None) -> Any:
        scan = super().clean(data, initial)
        if scan is None:
            return scan
        if scan.size > SCAN_MAX_BYTES:
            raise forms.ValidationError(
                _("Le scan dépasse %(limit)s Mo : numérisez-le en moins haute résolution."),
                code="too_large",
                params={"limit": SCAN_MAX_BYTES // (1024 * 1024)},
            )
        scan.seek(0)
        head = scan.read(len(PDF_MAGIC))
        scan.seek(0)
        if head != PDF_MAGIC:
            raise forms.ValidationError(
                _("Le scan doit être un fichier PDF."),
                code="not_pdf",
            )
        return scan


class PaperSignaturePayload(forms.Form):
    """A signatory who signed the printed letter by hand: who, on which version (the
    current one; left out, the current one is meant), and the scan of the signed paper."""

    signer = forms.IntegerField(label=_("Signataire"), min_value=1)
    version = forms.IntegerField(label=_("Version signée"), min_value=1, required=False)
    scan = ScanField(label=_("Scan de la lettre signée (PDF)"))
