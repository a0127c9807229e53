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

from django.conf import settings
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from governance.imp import (
    IMP_RATES,
    QUARTER_RATE,
    RuleFinding,
    check_envelope,
    envelope_weight,
    format_euros,
)
from governance.models import CatalogHeading, CatalogItem, MissionPriority, User
from workflow.models import FollowUp, Means, MissionLetter, PeriodKind, RecognitionMode
from workflow.web.fingerprints import fingerprint, shown_field, touched

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

    def __contains__(self, key: object) -> bool: ...


@dataclass
class ReferentRow:
    """A teacher of the establishment, who may be named référent of the letter
    (``former``: named by the letter but no longer a teacher there, shown so that the
    principal decides, never dropped silently)."""

    user: User
    chosen: bool = False
    mode: str = RecognitionMode.IMP
    imp_amount: str = ""
    decharge_hours: str = ""
    share: str = ""
    former: bool = False
    errors: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"referent-{self.user.pk}"


@dataclass
class MissionRow:
    """A catalogue item (``item`` set) or a mission written freely (``key`` its row).
    ``text`` is the letter's wording (a catalogue mission may have its own); ``order``
    its place in the letter, kept so that an unchanged save changes nothing."""

    key: str
    item: CatalogItem | None = None
    chosen: bool = False
    text: str = ""
    priority: str = MissionPriority.SECONDARY
    referents: set[str] = field(default_factory=set)
    order: int | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def wording(self) -> str:
        return self.text or (self.item.text if self.item else "")


@dataclass
class HeadingRows:
    """A heading of the catalogue with its items, as the editor folds them."""

    heading: CatalogHeading
    rows: list[MissionRow]

    @property
    def chosen_count(self) -> int:
        return sum(row.chosen for row in self.rows)


@dataclass
class IndicatorRow:
    """An indicator of the letter, or an empty row to write one."""

    key: str
    text: str = ""
    target: str = ""
    errors: list[str] = field(default_factory=list)


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
    """Every amount an IMP may take: the quarter shares (312,50 €) up to the envelope's
    maximum, the five rates of the arrêté du 27 avril 2015 named."""
    maximum: Decimal = settings.IMP_ENVELOPE_MAX
    choices = []
    amount = QUARTER_RATE
    while amount <= maximum:
        label = format_euros(amount)
        if amount in IMP_RATES:
            label = _("%(amount)s (taux %(rank)s)") % {
                "amount": label,
                "rank": IMP_RATES.index(amount) + 1,
            }
        choices.append((_amount(amount), label))
        amount += QUARTER_RATE
    return choices


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


def _people(letter: MissionLetter, teachers: Sequence[User]) -> list[tuple[User, bool]]:
    """The teachers, then the letter's référents who are no longer teachers there."""
    present = {teacher.pk for teacher in teachers}
    former = [
        r.user
        for r in sorted(letter.referents.all(), key=lambda r: (r.order, r.pk))
        if r.user_id not in present
    ]
    return [(user, False) for user in teachers] + [(user, True) for user in former]


def state_from_letter(
    letter: MissionLetter, teachers: Sequence[User], headings: Sequence[CatalogHeading]
) -> EditorState:
    """The editor filled from the letter as stored (its content prefetched)."""
    named = {r.user_id: r for r in letter.referents.all()}
    referents = []
    for person, former in _people(letter, teachers):
        stored = named.get(person.pk)
        if stored is None:
            referents.append(ReferentRow(user=person))
            continue
        referents.append(
            ReferentRow(
                user=person,
                chosen=True,
                mode=stored.mode,
                imp_amount=_amount(stored.imp_amount),
                decharge_hours=_amount(stored.decharge_hours),
                share=stored.share,
                former=former,
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
                order=mission.order,
            )
        else:
            free.append(
                MissionRow(
                    key=f"free-{len(free)}",
                    chosen=True,
                    text=mission.text,
                    priority=mission.priority,
                    referents=carried,
                    order=mission.order,
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
    """``free-0``, ``free-1`` … as posted (hidden ``<prefix>-rows`` lists them), each
    once."""
    keys = [key for key in post.getlist(f"{prefix}-rows") if key.startswith(f"{prefix}-")]
    return list(dict.fromkeys(keys))


def _order(post: FieldSource, key: str) -> int | None:
    try:
        return int(post.get(f"{key}-order", ""))
    except (TypeError, ValueError):
        return None


def state_from_post(
    post: FieldSource,
    letter: MissionLetter,
    teachers: Sequence[User],
    headings: Sequence[CatalogHeading],
) -> EditorState:
    """The editor as the person filled it in: shown again, unchanged, when the service
    refuses it, so nothing typed is lost."""
    referents = [
        ReferentRow(
            user=person,
            chosen=bool(post.get(f"referent-{person.pk}")),
            mode=_text(post.get(f"referent-{person.pk}-mode", RecognitionMode.IMP)),
            imp_amount=_text(post.get(f"referent-{person.pk}-imp", "")).strip(),
            decharge_hours=_text(post.get(f"referent-{person.pk}-hours", "")).strip(),
            share=_text(post.get(f"referent-{person.pk}-share", "")),
            former=former,
        )
        for person, former in _people(letter, teachers)
    ]
    held = {m.catalog_item_id for m in letter.missions.all()}
    by_item: dict[int, MissionRow] = {}
    for heading in headings:
        for item in heading.items.all():
            key = f"item-{item.pk}"
            if not item.is_active and item.pk not in held:
                continue  # retired: only a letter that holds it keeps it
            if not post.get(key) and item.pk not in held:
                continue
            by_item[item.pk] = MissionRow(
                key=key,
                item=item,
                chosen=bool(post.get(key)),
                text=_text(post.get(f"{key}-text", "")).strip(),
                priority=_text(post.get(f"{key}-priority", item.priority_hint)),
                referents=set(post.getlist(f"{key}-referents")),
                order=_order(post, key),
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
                order=_order(post, key),
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
        # Only what was posted: a field the form did not send is left as it is.
        fields={name: _text(post.get(name)) for name in SIMPLE_FIELDS if name in post},
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
    changes: dict[str, Any] = {
        name: state.fields[name] for name in SIMPLE_FIELDS if name in state.fields
    }
    if changes.get("period_kind") == PeriodKind.SCHOOL_YEAR:
        # The school year's own dates, which the service sets: the date fields only
        # matter for another duration, a stale date there is not an error.
        changes.pop("period_start", None)
        changes.pop("period_end", None)
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
                "decharge_hours": None if imp else referent.decharge_hours.replace(",", "."),
                "share": referent.share,
            }
        )
    changes["referents"] = referents
    missions: list[dict[str, Any]] = []
    chosen = [row for heading in state.headings for row in heading.rows if row.chosen]
    chosen += [row for row in state.free_missions if row.chosen]
    # The letter's own order first (an unchanged save must change nothing), new rows
    # after, in the page's order.
    chosen.sort(key=lambda row: (row.order is None, row.order or 0))
    for row in chosen:
        origins[f"missions[{len(missions)}]"] = row.key
        own_text = row.item is None or bool(row.text and row.text != row.item.text)
        missions.append(
            {
                "catalog_item": row.item.pk if row.item else None,
                "text": row.text if own_text else "",
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


def mark_errors(
    state: EditorState, errors: Mapping[str, list[str]], origins: Mapping[str, str]
) -> None:
    """Put the service's messages on the rows they point at, for the page to show each
    beside its row."""
    by_key: dict[str, list[str]] = {}
    for name, messages in errors.items():
        origin = origins.get(name.split(".")[0])
        if origin:
            by_key.setdefault(origin, []).extend(messages)
    rows: list[ReferentRow | MissionRow | IndicatorRow] = [
        *state.referents,
        *(row for heading in state.headings for row in heading.rows),
        *state.free_missions,
        *state.indicators,
    ]
    for row in rows:
        row.errors = by_key.get(row.key, [])


def error_labels(
    state: EditorState, errors: Mapping[str, list[str]], origins: Mapping[str, str]
) -> list[str]:
    """The service's errors in words a principal reads: « Référent Anne Martin : … »."""
    names = {
        f"referent-{row.user.pk}": row.user.get_full_name() or row.user.username
        for row in state.referents
    }
    missions = {row.key: row.wording for heading in state.headings for row in heading.rows} | {
        row.key: row.text for row in state.free_missions
    }
    indicators = {
        row.key: row.text or _("n° %(number)s") % {"number": n + 1}
        for n, row in enumerate(state.indicators)
    }
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


# What a save refused as stale tells: which parts of the letter another person saved
# meanwhile (module ``fingerprints``). The parts the editor fingerprints, each with the
# label the page gives it, in the page's order.
EDITOR_PARTS: dict[str, Any] = {
    "period_kind": gettext_lazy("Durée de la mission"),
    "period_start": gettext_lazy("Début de la période"),
    "period_end": gettext_lazy("Fin de la période"),
    "referents": gettext_lazy("Référents et reconnaissance"),
    "catalogue": gettext_lazy("Missions du catalogue"),
    "free_missions": gettext_lazy("Autres missions"),
    "indicators": gettext_lazy("Indicateurs"),
    "means": gettext_lazy("Moyens mis à disposition"),
    "means_other": gettext_lazy("Autres moyens"),
    "follow_up": gettext_lazy("Suivi de la mission"),
    "qualification": gettext_lazy("Qualification du référent"),
    "dane_training": gettext_lazy("Formation proposée par la DANE"),
}


@dataclass(frozen=True)
class Meanwhile:
    """A part of the letter another person saved since the page was shown: its value
    now stored, in lines a person reads; ``adopted`` when the person had not changed it,
    so that the form now holds the stored value (else it keeps what they typed)."""

    name: str
    label: str
    lines: list[str]
    adopted: bool

    @property
    def anchor(self) -> str:
        return f"{self.name}-entre-temps"


def _plain(value: object) -> str:
    """A text as compared: line ends as ``\\n`` (a browser sends ``\\r\\n``), no
    surrounding blanks."""
    return _text(value).replace("\r\n", "\n").replace("\r", "\n").strip()


def _chosen_missions(state: EditorState, catalogue: bool) -> list[MissionRow]:
    if catalogue:
        return [row for heading in state.headings for row in heading.rows if row.chosen]
    return [row for row in state.free_missions if row.chosen]


def _own_wording(row: MissionRow) -> str:
    """The letter's own wording of a mission (none for a catalogue item's own)."""
    text = _plain(row.text)
    return "" if row.item is not None and text == _plain(row.item.text) else text


def _part_values(state: EditorState, name: str) -> tuple[object, ...]:
    """What the part ``name`` of the editor holds, the same whether read from the
    letter or from the posted form when nothing was changed."""
    if name == "means":
        return tuple(sorted(state.means))
    if name == "referents":
        return tuple(
            (
                row.user.username,
                row.mode,
                row.imp_amount if row.mode == RecognitionMode.IMP else "",
                "" if row.mode == RecognitionMode.IMP else row.decharge_hours.replace(",", "."),
                _plain(row.share),
            )
            for row in state.chosen_referents()
        )
    if name in ("catalogue", "free_missions"):
        return tuple(
            (
                row.item.pk if row.item else None,
                _own_wording(row),
                row.priority,
                *sorted(row.referents),
            )
            for row in _chosen_missions(state, name == "catalogue")
        )
    if name == "indicators":
        return tuple(
            (_plain(row.text), _plain(row.target))
            for row in state.indicators
            if _plain(row.text) or _plain(row.target)
        )
    return (_plain(state.fields.get(name, "")),)


def shown_fingerprints(state: EditorState) -> dict[str, str]:
    """The hidden fields the form carries: for each part, the fingerprint of the value
    it shows."""
    return {shown_field(name): fingerprint(*_part_values(state, name)) for name in EDITOR_PARTS}


def posted_fingerprints(post: FieldSource) -> dict[str, str]:
    """The fingerprints a posted form carried, to carry them on when it is shown again
    (a refused save, the envelope checked): they stay those of the letter first shown."""
    return {
        shown_field(name): _text(post.get(shown_field(name)))
        for name in EDITOR_PARTS
        if shown_field(name) in post
    }


def _choice_label(choices: Any, value: str) -> str:
    return str(dict(choices.choices).get(value, value))


def _full_name(user: User) -> str:
    return user.get_full_name() or user.username


def _date_label(value: str) -> str:
    year, _sep, rest = value.partition("-")
    month, _sep, day = rest.partition("-")
    return f"{day}/{month}/{year}" if day else value


def _referent_line(row: ReferentRow) -> str:
    """« Anne Martin — IMP de 625,00 € — part : … »."""
    if row.mode == RecognitionMode.IMP:
        decimal = _decimal(row.imp_amount)
        amount = format_euros(decimal) if decimal is not None else row.imp_amount
        recognition = _("IMP de %(amount)s") % {"amount": amount}
    else:
        recognition = _("décharge de %(hours)s h par semaine") % {
            "hours": row.decharge_hours.replace(".", ",")
        }
    line = f"{_full_name(row.user)} — {recognition}"
    if _plain(row.share):
        line += " — " + _("part : %(share)s") % {"share": _plain(row.share)}
    return line


def _mission_line(row: MissionRow, names: Mapping[str, str]) -> str:
    """``« … » — Mission principale — confiée à Anne Martin``."""
    line = f"« {row.wording} » — {_choice_label(MissionPriority, row.priority)}"
    if row.referents:
        people = ", ".join(sorted(names.get(who, who) for who in row.referents))
        line += " — " + _("confiée à %(people)s") % {"people": people}
    return line


def _part_lines(state: EditorState, name: str) -> list[str]:
    """The part ``name`` as a person reads it (empty: nothing stored)."""
    names = {row.user.username: _full_name(row.user) for row in state.referents}
    if name == "means":
        labels = [_choice_label(Means, value) for value in sorted(state.means)]
        return [", ".join(labels)] if labels else []
    if name == "referents":
        return [_referent_line(row) for row in state.chosen_referents()]
    if name in ("catalogue", "free_missions"):
        return [_mission_line(row, names) for row in _chosen_missions(state, name == "catalogue")]
    if name == "indicators":
        return [
            f"{_plain(row.text)} — " + _("cible : %(target)s") % {"target": _plain(row.target)}
            if _plain(row.target)
            else _plain(row.text)
            for row in state.indicators
            if _plain(row.text) or _plain(row.target)
        ]
    value = _plain(state.fields.get(name, ""))
    if not value:
        return []
    if name == "period_kind":
        return [_choice_label(PeriodKind, value)]
    if name == "follow_up":
        return [_choice_label(FollowUp, value)]
    if name in ("period_start", "period_end"):
        return [_date_label(value)]
    return [value]


def _adopt(state: EditorState, stored: EditorState, name: str) -> None:
    """The form takes the stored value of the part ``name``."""
    if name == "means":
        state.means = set(stored.means)
    elif name == "referents":
        state.referents = stored.referents
    elif name == "catalogue":
        state.headings = stored.headings
    elif name == "free_missions":
        state.free_missions = stored.free_missions
    elif name == "indicators":
        state.indicators = stored.indicators
    else:
        state.fields[name] = stored.fields.get(name, "")


def saved_meanwhile(
    state: EditorState, stored: EditorState, post: QueryDict
) -> dict[str, Meanwhile]:
    """After a save refused as stale: each part of the letter another person changed
    since the page was shown (its stored value no longer has the fingerprint posted
    beside it), with its stored value. A part the person had not changed takes the
    stored value, so that saving again keeps the other's change; a part both changed
    keeps what the person typed, for them to choose. A part both changed alike is not
    one to choose."""
    found: dict[str, Meanwhile] = {}
    for name, label in EDITOR_PARTS.items():
        now = fingerprint(*_part_values(stored, name))
        if post.get(shown_field(name)) == now or fingerprint(*_part_values(state, name)) == now:
            continue
        adopted = not touched(post, name, *_part_values(state, name))
        if adopted:
            _adopt(state, stored, name)
        found[name] = Meanwhile(name, str(label), _part_lines(stored, name), adopted)
    return found
