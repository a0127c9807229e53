"""A letter as the API shows it (DESIGN §7): built from rows, kept in each process.

Every read of letters goes through here: the DAN's page of fifty, a letter's detail,
the letters a transition or a meeting's opinions return. ``LetterSerializer`` declares
the shape; this builds it from plain data (a test feeds every representation back
through the declared fields to check that both agree).

Each letter's representation is kept in the process's memory, keyed on its **head**
(``LetterHead``): everything the representation is made of, read with the letter. A
page reads only the heads of its letters, as rows, and builds only the letters the
cache does not hold as they stand now. Two parts are made for each read all the same:
the state's label, in the reader's language, and the warnings, since the envelope they
judge is filled by the other letters of the establishment's year (``envelopes_for``,
one query per page).

Before, a page of fifty made 150 model instances (the letters, their establishments
and years, with django-fsm's set-up of each), then their representations and the
hash of their content, for letters that had not changed (bench/RESULTS.md).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple, overload

from cachetools import TTLCache
from django.conf import settings
from django.db import connection
from django.db.models import QuerySet

from governance.models import CatalogHeading, CatalogItem, Establishment, SchoolYear, User
from governance.sql import placeholders, read_datetime, sql_names
from workflow.api.serializers import LetterSerializer, ReferentSerializer
from workflow.errors import Unmet
from workflow.models import LetterReferent, LetterState, MissionLetter
from workflow.selectors import content_warnings, envelope_warnings, envelopes_for
from workflow.snapshot import LetterContent, content_sha256, letter_contents

# The heads of letters, as rows ----------------------------------------------------------------


class LetterHead(NamedTuple):
    """Everything a letter's representation is made of, as of a read: the key it is
    cached on. The letter's own fields and rows move ``updated_at`` (every save) or
    ``audit_head`` (every event); its state is here too, since the representation shows
    it. What the content carries from outside the letter has its own stamps: the
    establishment's UAI and name, the year's code, when the letter's référents last
    changed (their name, their discipline) and when the catalogue's items and headings
    did (a mission's code, heading and scope)."""

    pk: int
    updated_at: dt.datetime
    audit_head: str
    state: str
    establishment_id: int
    school_year_id: int
    uai: str
    establishment_name: str
    school_year_code: str
    people_changed_at: dt.datetime | None
    catalog_changed_at: dt.datetime | None
    headings_changed_at: dt.datetime | None


def _stamps_sql(letter_pk: str) -> str:
    """The three stamps of a letter's head, as sub-selects on the letter whose id is the
    column ``letter_pk``. The people's stamp is the latest ``updated_at`` of the
    letter's référents, set by the web servers' clocks when they save, not when they
    commit. Two cases would not move it: a rename on a server running behind the one
    that last saved a co-référent; two co-référents renamed at once, the one saved first
    committed last, with a read in between. The catalogue's stamps (one for all of it:
    a few dozen rows edited by administrators) share the second case.
    ``LETTER_CACHE_SECONDS`` bounds how long such an entry could live; a sum of the
    stamps, which every committed save moves, would close both (bench/RESULTS.md)."""
    referents, referent_letter, referent_user = sql_names(LetterReferent, "letter", "user")
    users, user_pk, user_changed = sql_names(User, "id", "updated_at")
    items, item_changed = sql_names(CatalogItem, "updated_at")
    headings, heading_changed = sql_names(CatalogHeading, "updated_at")
    # MAX rather than ORDER BY … DESC LIMIT 1, the same value since ``updated_at`` is
    # never null: PostgreSQL sorted each letter's référents for it, which took half of
    # a page's query (1.5 ms against 0.55 ms on the national set, bench/RESULTS.md).
    return (
        f"(SELECT MAX(u.{user_changed}) FROM {referents} r "
        f"INNER JOIN {users} u ON u.{user_pk} = r.{referent_user} "
        f"WHERE r.{referent_letter} = {letter_pk}), "
        f"(SELECT MAX({item_changed}) FROM {items}), "
        f"(SELECT MAX({heading_changed}) FROM {headings})"
    )


def letter_heads(letter_ids: Sequence[int]) -> list[LetterHead]:
    """The heads of the letters ``letter_ids``, in that order (an id that names no
    letter is left out), in one query.

    Written in SQL (``governance.sql``): the ORM took longer to build and compile this
    read of a page's fifty letters, with their establishment, their year and the three
    stamps' sub-selects, than PostgreSQL takes to answer it, and every list of letters
    paid it (bench/RESULTS.md, stop 13)."""
    if not letter_ids:
        return []
    letters, pk, changed, audit_head, state, establishment, school_year = sql_names(
        MissionLetter, "id", "updated_at", "audit_head", "state", "establishment", "school_year"
    )
    establishments, establishment_pk, uai, name = sql_names(Establishment, "id", "uai", "name")
    years, year_pk, code = sql_names(SchoolYear, "id", "code")
    ids = sorted(set(letter_ids))
    sql = (
        f"SELECT l.{pk}, l.{changed}, l.{audit_head}, l.{state}, l.{establishment}, "
        f"l.{school_year}, e.{uai}, e.{name}, y.{code}, {_stamps_sql(f'l.{pk}')} "
        f"FROM {letters} l "
        f"INNER JOIN {establishments} e ON e.{establishment_pk} = l.{establishment} "
        f"INNER JOIN {years} y ON y.{year_pk} = l.{school_year} "
        f"WHERE l.{pk} IN ({placeholders(ids)})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, ids)
        rows = cursor.fetchall()
    found = {
        pk: LetterHead(pk, read_datetime(changed), *rest[:-3], *map(read_datetime, rest[-3:]))
        for pk, changed, *rest in rows
    }
    return [found[pk] for pk in letter_ids if pk in found]


class HeadRows(Sequence[LetterHead]):
    """A queryset of letters as a paginator reads it: counted, and sliced as the heads
    of its letters (``letter_heads``). Only the page's ids are read through the ORM,
    with the filters and the order the caller gave the queryset."""

    def __init__(self, letters: QuerySet[MissionLetter]) -> None:
        self.letters = letters

    @property
    def ordered(self) -> bool:
        return self.letters.ordered

    def __len__(self) -> int:  # what Django's paginator counts with
        return self.letters.count()

    @overload
    def __getitem__(self, index: int) -> LetterHead: ...

    @overload
    def __getitem__(self, index: slice) -> list[LetterHead]: ...

    def __getitem__(self, index: int | slice) -> LetterHead | list[LetterHead]:
        ids = self.letters.values_list("pk", flat=True)
        if isinstance(index, int):
            return letter_heads([ids[index]])[0]
        return letter_heads(list(ids[index]))


def heads_of(letters: Sequence[MissionLetter]) -> list[LetterHead]:
    """The heads of letters read as instances (with their establishment and school
    year): their stamps read by ``letter_heads``, everything else as the instances hold
    it. The stamps are read after the letters and the content after the stamps, so an
    entry is never older than its head."""
    read = {head.pk: head for head in letter_heads([letter.pk for letter in letters])}
    return [
        read[letter.pk]._replace(
            updated_at=letter.updated_at,
            audit_head=letter.audit_head,
            state=letter.state,
            establishment_id=letter.establishment_id,
            school_year_id=letter.school_year_id,
            uai=letter.establishment.uai,
            establishment_name=letter.establishment.name,
            school_year_code=letter.school_year.code,
        )
        for letter in letters
    ]


# The representations, cached ----------------------------------------------------------------


@dataclass(frozen=True)
class KeptLetter:
    """What the cache keeps of a letter: its representation but for the parts made for
    each read (``state_label`` and ``warnings`` are there, empty, to keep the order of
    the keys), and its content, which the warnings read. Shared by every read that
    finds it: never changed, only copied."""

    body: dict[str, Any]
    content: LetterContent


# DRF's own formatting of the values that need it, by the very fields that declare them,
# so that a representation reads as the declared fields would write it.
_REFERENT_FIELDS = ReferentSerializer().fields
_MONEY = _REFERENT_FIELDS["imp_amount"]
_HOURS = _REFERENT_FIELDS["decharge_hours"]
_MOMENT = LetterSerializer().fields["created_at"]


def _decimal(field: Any, value: Decimal | None) -> str | None:
    return None if value is None else field.to_representation(value)


def _date(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _kept(letter: MissionLetter, content: LetterContent) -> KeptLetter:
    body = {
        "id": letter.pk,
        "establishment": letter.establishment.uai,
        "school_year": letter.school_year.code,
        "state": letter.state,
        "state_label": None,
        "version": letter.version,
        "period_kind": letter.period_kind,
        "period_start": _date(letter.period_start),
        "period_end": _date(letter.period_end),
        "referents": [
            {
                "user": r.username,
                "name": r.name,
                "mode": r.mode,
                "imp_amount": _decimal(_MONEY, r.imp_amount),
                "decharge_hours": _decimal(_HOURS, r.decharge_hours),
                "share": r.share,
                "agreed_version": r.agreed_version,
            }
            for r in content.referents
        ],
        "missions": [
            {
                "id": m.id,
                "catalog_item": m.catalog_item_id,
                "text": m.text,
                "priority": m.priority,
                "referents": list(m.referents),
                "outside_scope": m.outside_scope,
            }
            for m in content.missions
        ],
        "indicators": [
            {"id": i.id, "text": i.text, "target": i.target} for i in content.indicators
        ],
        "means": list(letter.means),
        "means_other": letter.means_other,
        "follow_up": letter.follow_up,
        "qualification": letter.qualification,
        "dane_training": letter.dane_training,
        "renewed_from": letter.renewed_from_id,
        "warnings": None,
        "snapshot_sha256": content_sha256(letter, content),
        "created_at": _MOMENT.to_representation(letter.created_at),
        "updated_at": _MOMENT.to_representation(letter.updated_at),
    }
    return KeptLetter(body, content)


_cache_of_letters: TTLCache[LetterHead, KeptLetter] | None = None
_cache_lock = threading.Lock()


def _cache() -> TTLCache[LetterHead, KeptLetter]:
    global _cache_of_letters
    if _cache_of_letters is None:
        _cache_of_letters = TTLCache(
            maxsize=settings.LETTER_CACHE_ENTRIES, ttl=settings.LETTER_CACHE_SECONDS
        )
    return _cache_of_letters


def clear_read_cache() -> None:
    """Forget every letter this process keeps (tests start from an empty cache)."""
    with _cache_lock:
        _cache().clear()


def _representations(
    heads: Sequence[LetterHead], letters: Mapping[int, MissionLetter] | None
) -> list[dict[str, Any]]:
    """The representation of each letter of ``heads``, in order: from the cache where
    it holds the letter as its head says, else built and kept there. ``letters`` are
    the letters as instances when the caller has them; otherwise those to build are
    read now, after their heads.

    Entries are never invalidated: a change makes a new head, so the old entry is
    never asked for again. The cache is each process's memory, bounded
    (``LETTER_CACHE_ENTRIES``, least recently used out first; ``LETTER_CACHE_SECONDS``
    at most): nothing to share or keep in step, nothing lost when it is cold, empty
    after a deployment. Django's cache would pickle every value, which took 2 ms of a
    page of fifty."""
    cache = _cache()
    with _cache_lock:
        kept = [cache.get(head) for head in heads]
    found = {head: entry for head, entry in zip(heads, kept, strict=True) if entry is not None}
    missing = [head for head in heads if head not in found]
    if missing:
        pks = [head.pk for head in missing]
        if letters is None:
            letters = MissionLetter.objects.select_related("establishment", "school_year").in_bulk(
                pks
            )
        contents = letter_contents(pks)
        made = {head: _kept(letters[head.pk], contents[head.pk]) for head in missing}
        with _cache_lock:
            cache.update(made)
        found.update(made)
    # An envelope's warnings are judged once per establishment's year, not per letter.
    envelopes = {
        pair: _warnings(envelope_warnings(envelope))
        for pair, envelope in envelopes_for(
            {(head.establishment_id, head.school_year_id) for head in heads}
        ).items()
    }
    # Each state's label translated once per read, not once per letter (nor through
    # get_state_display(), which rebuilds a dict of every lazy choice).
    labels = {state: str(LetterState(state).label) for state in {head.state for head in heads}}
    return [
        {
            **found[head].body,
            "state_label": labels[head.state],
            "warnings": [
                *envelopes[(head.establishment_id, head.school_year_id)],
                *_warnings(content_warnings(found[head].content)),
            ],
        }
        for head in heads
    ]


def _warnings(found: list[Unmet]) -> list[dict[str, str]]:
    return [{"code": w.code, "detail": w.message} for w in found]


def letter_representations(letters: Sequence[MissionLetter]) -> list[dict[str, Any]]:
    """``letters`` (instances read with their establishment and school year) as the API
    shows them, in order, with a fixed number of queries."""
    return _representations(heads_of(letters), {letter.pk: letter for letter in letters})


def page_representations(heads: Sequence[LetterHead]) -> list[dict[str, Any]]:
    """A page of letters read as their heads (``HeadRows``, ``letter_heads``), as the API
    shows them, in order: no instance is made for the letters the cache holds."""
    return _representations(heads, None)
