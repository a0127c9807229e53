"""The letter editor's form, modelled on the checklist of seed 004: the page's fields
turned into ``update_letter``'s changes, and the letter (or the fields sent back after
an error) turned into the rows the page shows.

A plain module rather than Django forms: the rules stay in ``workflow.services`` (which
the API calls too); this only translates between the page's flat field names and the
service's nested changes, so a refused edit can be shown again exactly as it was typed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from django.utils.translation import gettext as _

from governance.imp import IMP_RATES, RuleFinding, check_envelope, envelope_weight, format_euros
from governance.models import CatalogHeading, CatalogItem, MissionPriority, User
from workflow.models import MissionLetter, RecognitionMode

# Empty rows offered below the letter's own free-text missions and indicators; saving
# the letter offers as many again.
BLANK_ROWS = 2
SIMPLE_FIELDS = (
    "period_kind",
    "period_start",
    "period_end",
    "means_other",
    "follow_up",
    "qualification",
    "dane_training",
)


class FieldSource(Protocol):
    """A ``QueryDict``'s reading side: the posted form."""

    def get(self, key: str, default: Any = None) -> Any: ...

    def getlist(self, key: str) -> list[Any]: ...


@dataclass
class ReferentRow:
    """A teacher of the establishment, who may be named référent of the letter."""

    user: User
    chosen: bool = False
    mode: str = RecognitionMode.IMP
    imp_amount: str = ""
    decharge_hours: str = ""
    share: str = ""
    error: bool = False


@dataclass
class MissionRow:
    """A catalogue item (``item`` set) or a mission written freely (``key`` its row)."""

    key: str
    item: CatalogItem | None = None
    chosen: bool = False
    text: str = ""
    priority: str = MissionPriority.SECONDARY
    referents: set[str] = field(default_factory=set)
    error: bool = False


@dataclass
class HeadingRows:
    heading: CatalogHeading
    rows: list[MissionRow]

    @property
    def chosen_count(self) -> int:
        return sum(row.chosen for row in self.rows)


@dataclass
class IndicatorRow:
    key: str
    text: str = ""
    target: str = ""
    error: bool = False


@dataclass
class EditorState:
    """Everything the editor shows, whether read from the letter or from a post."""

    fields: dict[str, str]
    means: set[str]
    referents: list[ReferentRow]
    headings: list[HeadingRows]
    free_missions: list[MissionRow]
    indicators: list[IndicatorRow]

    def chosen_referents(self) -> list[ReferentRow]:
        return [row for row in self.referents if row.chosen]


@dataclass(frozen=True)
class EnvelopeCheck:
    """The establishment's envelope for the year, with this letter as edited."""

    total: Decimal
    this_letter: Decimal
    other_letters: Decimal
    findings: list[RuleFinding]
    unreadable: list[str]

    @property
    def total_label(self) -> str:
        return format_euros(self.total)

    @property
    def this_letter_label(self) -> str:
        return format_euros(self.this_letter)

    @property
    def other_letters_label(self) -> str:
        return format_euros(self.other_letters)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _amount(value: Decimal | None) -> str:
    """A stored amount as the form shows it (``1250.00``, ``1.5``)."""
    if value is None:
        return ""
    return format(Decimal(value).normalize(), "f")


def imp_choices() -> list[tuple[str, str]]:
    """The IMP rates (arrêté du 27 avril 2015) a select offers, value and French label."""
    return [(_amount(rate), format_euros(rate)) for rate in IMP_RATES]


def _catalogue_rows(
    headings: Sequence[CatalogHeading], chosen: Mapping[int, MissionRow]
) -> list[HeadingRows]:
    result = []
    for heading in headings:
        rows = []
        for item in heading.items.all():
            row = chosen.get(item.pk)
            if row is None:
                if not item.is_active:
                    continue  # retired, and not in this letter
                row = MissionRow(key=f"item-{item.pk}", item=item, priority=item.priority_hint)
            rows.append(row)
        if rows:
            result.append(HeadingRows(heading=heading, rows=rows))
    return result


def _blank_missions(start: int) -> list[MissionRow]:
    return [MissionRow(key=f"free-{start + n}") for n in range(BLANK_ROWS)]


def _blank_indicators(start: int) -> list[IndicatorRow]:
    return [IndicatorRow(key=f"indicator-{start + n}") for n in range(BLANK_ROWS)]


def state_from_letter(
    letter: MissionLetter, teachers: Sequence[User], headings: Sequence[CatalogHeading]
) -> EditorState:
    """The editor filled from the letter as stored (its content prefetched)."""
    named = {r.user_id: r for r in letter.referents.all()}
    referents = []
    for teacher in teachers:
        stored = named.get(teacher.pk)
        if stored is None:
            referents.append(ReferentRow(user=teacher))
            continue
        referents.append(
            ReferentRow(
                user=teacher,
                chosen=True,
                mode=stored.mode,
                imp_amount=_amount(stored.imp_amount),
                decharge_hours=_amount(stored.decharge_hours),
                share=stored.share,
            )
        )
    by_item: dict[int, MissionRow] = {}
    free: list[MissionRow] = []
    for mission in sorted(letter.missions.all(), key=lambda m: (m.order, m.pk)):
        carried = {r.user.username for r in mission.referents.all()}
        if mission.catalog_item_id is not None:
            by_item[mission.catalog_item_id] = MissionRow(
                key=f"item-{mission.catalog_item_id}",
                item=mission.catalog_item,
                chosen=True,
                text=mission.text,
                priority=mission.priority,
                referents=carried,
            )
        else:
            free.append(
                MissionRow(
                    key=f"free-{len(free)}",
                    chosen=True,
                    text=mission.text,
                    priority=mission.priority,
                    referents=carried,
                )
            )
    indicators = [
        IndicatorRow(key=f"indicator-{n}", text=i.text, target=i.target)
        for n, i in enumerate(sorted(letter.indicators.all(), key=lambda i: (i.order, i.pk)))
    ]
    return EditorState(
        fields={
            "period_kind": letter.period_kind,
            "period_start": letter.period_start.isoformat() if letter.period_start else "",
            "period_end": letter.period_end.isoformat() if letter.period_end else "",
            "means_other": letter.means_other,
            "follow_up": letter.follow_up,
            "qualification": letter.qualification,
            "dane_training": letter.dane_training,
        },
        means=set(letter.means or []),
        referents=referents,
        headings=_catalogue_rows(headings, by_item),
        free_missions=free + _blank_missions(len(free)),
        indicators=indicators + _blank_indicators(len(indicators)),
    )


def _posted_keys(post: FieldSource, prefix: str) -> list[str]:
    """``free-0``, ``free-1`` … as posted (hidden ``<prefix>-rows`` lists them)."""
    return [key for key in post.getlist(f"{prefix}-rows") if key.startswith(f"{prefix}-")]


def state_from_post(
    post: FieldSource, teachers: Sequence[User], headings: Sequence[CatalogHeading]
) -> EditorState:
    """The editor as the person filled it in: shown again, unchanged, when the service
    refuses it, so nothing typed is lost."""
    referents = [
        ReferentRow(
            user=teacher,
            chosen=bool(post.get(f"referent-{teacher.pk}")),
            mode=_text(post.get(f"referent-{teacher.pk}-mode", RecognitionMode.IMP)),
            imp_amount=_text(post.get(f"referent-{teacher.pk}-imp", "")).strip(),
            decharge_hours=_text(post.get(f"referent-{teacher.pk}-hours", ""))
            .strip()
            .replace(",", "."),
            share=_text(post.get(f"referent-{teacher.pk}-share", "")),
        )
        for teacher in teachers
    ]
    by_item: dict[int, MissionRow] = {}
    for heading in headings:
        for item in heading.items.all():
            key = f"item-{item.pk}"
            if not post.get(key):
                continue
            by_item[item.pk] = MissionRow(
                key=key,
                item=item,
                chosen=True,
                text=item.text,
                priority=_text(post.get(f"{key}-priority", item.priority_hint)),
                referents=set(post.getlist(f"{key}-referents")),
            )
    free = []
    for key in _posted_keys(post, "free"):
        text = _text(post.get(f"{key}-text", "")).strip()
        free.append(
            MissionRow(
                key=key,
                chosen=bool(text),
                text=text,
                priority=_text(post.get(f"{key}-priority", MissionPriority.SECONDARY)),
                referents=set(post.getlist(f"{key}-referents")),
            )
        )
    if not any(not row.text for row in free):
        free += _blank_missions(len(free))
    indicators = [
        IndicatorRow(
            key=key,
            text=_text(post.get(f"{key}-text", "")).strip(),
            target=_text(post.get(f"{key}-target", "")).strip(),
        )
        for key in _posted_keys(post, "indicator")
    ]
    if not any(not row.text and not row.target for row in indicators):
        indicators += _blank_indicators(len(indicators))
    return EditorState(
        fields={name: _text(post.get(name, "")) for name in SIMPLE_FIELDS},
        means=set(post.getlist("means")),
        referents=referents,
        headings=_catalogue_rows(headings, by_item),
        free_missions=free,
        indicators=indicators,
    )


def changes_from_state(state: EditorState) -> tuple[dict[str, Any], dict[str, str]]:
    """``update_letter``'s changes, and for each of the service's error prefixes
    (``referents[0]``, ``missions[3]`` …) the row key it came from, so an error lands
    on its row."""
    changes: dict[str, Any] = {name: state.fields[name] for name in SIMPLE_FIELDS}
    changes["means"] = sorted(state.means)
    origins: dict[str, str] = {}
    referents: list[dict[str, Any]] = []
    for referent in state.chosen_referents():
        origins[f"referents[{len(referents)}]"] = f"referent-{referent.user.pk}"
        imp = referent.mode == RecognitionMode.IMP
        referents.append(
            {
                "user": referent.user.username,
                "mode": referent.mode,
                # Only the chosen mode's amount: a stale figure in the other field is
                # not an error the person should have to clear.
                "imp_amount": referent.imp_amount if imp else None,
                "decharge_hours": None if imp else referent.decharge_hours,
                "share": referent.share,
            }
        )
    changes["referents"] = referents
    missions: list[dict[str, Any]] = []
    chosen_items = [row for heading in state.headings for row in heading.rows if row.chosen]
    for row in chosen_items + [row for row in state.free_missions if row.chosen]:
        origins[f"missions[{len(missions)}]"] = row.key
        missions.append(
            {
                "catalog_item": row.item.pk if row.item else None,
                "text": "" if row.item else row.text,
                "priority": row.priority,
                "referents": sorted(row.referents),
            }
        )
    changes["missions"] = missions
    indicators: list[dict[str, str]] = []
    for indicator in state.indicators:
        if not indicator.text and not indicator.target:
            continue
        origins[f"indicators[{len(indicators)}]"] = indicator.key
        indicators.append({"text": indicator.text, "target": indicator.target})
    changes["indicators"] = indicators
    return changes, origins


def mark_errors(state: EditorState, errors: Mapping[str, Any], origins: Mapping[str, str]) -> None:
    """Flag the rows the service's errors point at, for the page to show them."""
    keys = {origins[name.split(".")[0]] for name in errors if name.split(".")[0] in origins}
    for referent in state.referents:
        referent.error = f"referent-{referent.user.pk}" in keys
    for heading in state.headings:
        for row in heading.rows:
            row.error = row.key in keys
    for row in state.free_missions:
        row.error = row.key in keys
    for indicator in state.indicators:
        indicator.error = indicator.key in keys


def error_labels(
    state: EditorState, errors: Mapping[str, list[str]], origins: Mapping[str, str]
) -> list[str]:
    """The service's errors in words a principal reads: « Référent Anne Martin : … »."""
    names = {
        f"referent-{row.user.pk}": row.user.get_full_name() or row.user.username
        for row in state.referents
    }
    missions = {
        row.key: row.text or (row.item.text if row.item else "")
        for heading in state.headings
        for row in heading.rows
    } | {row.key: row.text for row in state.free_missions}
    indicators = {row.key: row.text for row in state.indicators}
    field_labels = {
        "period_kind": _("Période"),
        "period_start": _("Début de la période"),
        "period_end": _("Fin de la période"),
        "means": _("Moyens"),
        "means_other": _("Autres moyens"),
        "follow_up": _("Suivi"),
        "qualification": _("Qualification"),
        "dane_training": _("Formation DANE"),
        "referents": _("Référents"),
        "missions": _("Missions"),
        "indicators": _("Indicateurs"),
    }
    lines: list[str] = []
    for name, messages in errors.items():
        origin = origins.get(name.split(".")[0], "")
        if origin in names:
            where = _("Référent %(name)s") % {"name": names[origin]}
        elif origin in missions:
            where = _("Mission « %(text)s »") % {"text": missions[origin][:80]}
        elif origin in indicators:
            where = _("Indicateur « %(text)s »") % {"text": indicators[origin][:80]}
        else:
            where = field_labels.get(name, name)
        lines.extend(f"{where} : {message}" for message in messages)
    return lines


def _decimal(value: str) -> Decimal | None:
    try:
        number = Decimal(value.replace(",", "."))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() and number >= 0 else None


def check_state_envelope(state: EditorState, other_letters: Sequence[Decimal]) -> EnvelopeCheck:
    """The envelope as it would be if the letter were saved as edited: what the editor
    shows live, before anything is saved."""
    mine = []
    unreadable = []
    for row in state.chosen_referents():
        imp = row.mode == RecognitionMode.IMP
        raw = row.imp_amount if imp else row.decharge_hours
        amount = _decimal(raw)
        if amount is None:
            if raw:
                unreadable.append(row.user.get_full_name() or row.user.username)
            continue
        mine.append(envelope_weight(amount, None) if imp else envelope_weight(None, amount))
    this_letter = sum(mine, Decimal("0"))
    others = sum(other_letters, Decimal("0"))
    return EnvelopeCheck(
        total=this_letter + others,
        this_letter=this_letter,
        other_letters=others,
        findings=check_envelope([this_letter, others]),
        unreadable=unreadable,
    )
