"""What every page about one letter starts with."""

from __future__ import annotations

from django.http import Http404

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
