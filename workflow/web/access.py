"""What every page about one letter starts with, and how it hands over a stored PDF."""

from __future__ import annotations

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404

from governance.models import User
from workflow.errors import LetterNotFound
from workflow.models import MissionLetter
from workflow.selectors.visibility import get_visible_letter


def letter_or_404(user: User, letter_id: int) -> MissionLetter:
    """The letter if ``user`` may see it; 404 otherwise, whether it exists or not."""
    try:
        return get_visible_letter(user, letter_id)
    except LetterNotFound as exc:
        raise Http404(exc.detail) from exc


def stored_pdf(file: FieldFile, *, filename: str, missing: str) -> FileResponse:
    """The stored PDF ``file`` as a download named ``filename``; a 404 saying
    ``missing`` when storage no longer holds it (a restore that left it behind), not a
    500."""
    try:
        stored = file.open("rb")
    except FileNotFoundError as exc:
        raise Http404(missing) from exc
    return FileResponse(
        stored, as_attachment=True, content_type="application/pdf", filename=filename
    )
