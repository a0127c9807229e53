"""The scan of a signature given by hand, for whoever may see its letter."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest
from django.utils.translation import gettext as _

from governance.selectors import signed_in_user
from workflow.models import Signature, SignatureMethod
from workflow.web.access import letter_or_404, stored_pdf


@login_required
def paper_scan(request: HttpRequest, letter_id: int, signature_id: int) -> FileResponse:
    """The stored scan of a paper signature of the letter, as a download (a file sent
    by someone is never shown inside the application's pages)."""
    letter = letter_or_404(signed_in_user(request), letter_id)
    signature = (
        Signature.objects.filter(letter=letter, pk=signature_id, method=SignatureMethod.PAPER)
        .exclude(scan="")
        .first()
    )
    if signature is None:
        raise Http404(_("Cette signature n'a pas de scan."))
    return stored_pdf(
        signature.scan,
        filename=f"signature-manuscrite-lettre-{letter.pk}-v{signature.version}-"
        f"{signature.signer.username}.pdf",
        missing=_("Le scan de cette signature a disparu."),
    )
