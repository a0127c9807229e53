"""What the workflow's services raise when they refuse. Each error carries a stable
``code`` (the API's error codes, DESIGN §7) and a French ``detail``; the API and the
pages translate them into responses, the services never deal in HTTP."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Unmet:
    """One unmet condition of a transition: a stable code and a French explanation.
    ``done``: the condition is that the person has already done it (agreed, signed),
    so nothing is left for them to do."""

    code: str
    message: str
    done: bool = False

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


class WorkflowError(Exception):
    code = "error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class LetterNotFound(WorkflowError):
    """The letter does not exist, or the person may not see it (both look the same)."""

    code = "not_found"


class UnknownTransition(WorkflowError):
    code = "unknown_transition"


class NotPermitted(WorkflowError):
    """The person sees the letter but this action is not theirs."""

    code = "permission_denied"


class TransitionNotAllowed(WorkflowError):
    """Not from the letter's current state, or another request changed it first."""

    code = "transition_not_allowed"


class AlreadyDone(TransitionNotAllowed):
    """The person has already done it (agreed to this version, signed it): a request
    that lost a race to the same transition, or a second click. Same answer as any
    transition the letter no longer allows (409), with the condition that says why."""

    def __init__(self, unmet: list[Unmet]) -> None:
        super().__init__("; ".join(u.message for u in unmet))
        self.unmet = unmet


class SnapshotMismatch(WorkflowError):
    """The signer was shown another version of the letter than the one standing now."""

    code = "snapshot_mismatch"


class LetterExists(WorkflowError):
    """The establishment already has a letter (not withdrawn) for that school year."""

    code = "letter_exists"

    def __init__(self, detail: str, letter_id: int) -> None:
        super().__init__(detail)
        self.letter_id = letter_id


class AlreadyReminded(WorkflowError):
    """« Relancer » was already sent today to this person about this letter (or, for
    everyone awaited, to each of them): once a day per person and letter.
    ``reminded``: who, when and by whom, for the API's answer."""

    code = "already_reminded"

    def __init__(self, detail: str, reminded: list[dict[str, str]]) -> None:
        super().__init__(detail)
        self.reminded = reminded


class NotAwaited(WorkflowError):
    """« Relancer » names someone the letter does not wait for, or it waits for nobody."""

    code = "not_awaited"


class StaleRevision(WorkflowError):
    """An edit was based on a revision of the content that another save has replaced:
    refused, rather than overwriting it unseen."""

    code = "stale_revision"


@dataclass(frozen=True)
class EntryConflict:
    """One entry of the year-end report that another person saved since the page (or
    the client) read it: ``entry`` is ``outcome`` (``id``: the mission), ``result``
    (``id``: the indicator) or ``closing`` (the three closing texts, one of which another
    person changed); ``stored``: its values now, with who saved them and when."""

    entry: str
    id: int | None
    label: str
    stored: dict[str, str]
    revision: int
    revised_by: str
    revised_at: dt.datetime | None

    def as_dict(self) -> dict[str, object]:
        return {
            "entry": self.entry,
            "id": self.id,
            "stored": self.stored,
            "revision": self.revision,
            "revised_by": self.revised_by,
            "revised_at": self.revised_at.isoformat() if self.revised_at else None,
        }


class StaleEntries(StaleRevision):
    """Entries of the year-end report saved by another person since they were read:
    the whole save is refused, so that the person can choose, entry by entry."""

    def __init__(self, detail: str, conflicts: list[EntryConflict]) -> None:
        super().__init__(detail)
        self.conflicts = conflicts


class StaleVersion(WorkflowError):
    """An edit was based on a version that has since changed."""

    code = "stale_version"


class NotEditable(WorkflowError):
    code = "not_editable"


class ConditionsUnmet(WorkflowError):
    code = "conditions_unmet"

    def __init__(self, unmet: list[Unmet]) -> None:
        super().__init__("; ".join(u.message for u in unmet))
        self.unmet = unmet


class InvalidInput(WorkflowError):
    code = "invalid"

    def __init__(self, errors: dict[str, list[str]], detail: str = "") -> None:
        super().__init__(detail or "Certaines données sont invalides.")
        self.errors = errors
