"""The national directory of schools, imported: académies and EPLE from the open-data
export of the « Annuaire de l'éducation » (``fr-en-annuaire-education`` on
data.education.gouv.fr).

The export is a CSV file, semicolon-separated, one row per establishment and site, its
columns named as the dataset publishes them (``identifiant_de_l_etablissement``,
``nom_etablissement``, ``type_etablissement``, ``statut_public_prive``,
``libelle_nature``, ``code_departement``, ``libelle_departement``, ``libelle_academie``,
``libelle_region``, ``nom_commune``, ``etat``, ``ministere_tutelle``, …); the
portal's export with labels capitalises some (``Identifiant_de_l_etablissement``),
so names are compared without case.

Only public collèges, lycées (général, technologique, polyvalent), lycées
professionnels and EREA of the education ministry are kept: the establishments that
have a référent numérique's letter. Every other row is counted under the reason it was
left out. Every UAI's check letter is verified (``validate_uai``). A UAI may come on
several rows (an establishment with several sites): its last row wins, and the import
says which UAIs were repeated.

Loading is idempotent: an establishment is known by its UAI, an académie by its code
(the slug of its name, ``dijon``) or its name; a second run of the same file changes
nothing. Establishments the file does not name are left as they are.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from governance.models import Academy, Establishment, EstablishmentKind, HolidayZone
from governance.opendata import EmptyFile, MissingColumns, export_rows
from governance.text import normalized
from governance.uai import validate_uai

# The columns the import reads, as the dataset names them. The first ones are required.
REQUIRED_COLUMNS = (
    "identifiant_de_l_etablissement",
    "nom_etablissement",
    "type_etablissement",
    "statut_public_prive",
    "libelle_nature",
    "code_departement",
    "nom_commune",
    "libelle_academie",
    "etat",
)
OPTIONAL_COLUMNS = (
    "libelle_departement",
    "libelle_region",
    "code_academie",
    "ministere_tutelle",
    # Not in the directory itself, but in the closed establishments' dataset
    # (``fr-en-etablissements-fermes``): read when present.
    "date_fermeture",
)
COLUMNS = {name: (name,) for name in REQUIRED_COLUMNS + OPTIONAL_COLUMNS}

PROGRESS_EVERY = 500

# Why a row was left out, in the order the report lists them.
SKIP_REASONS = {
    "uai_invalide": "UAI invalide (format ou lettre de contrôle)",
    "prive": "établissement privé",
    "premier_degre": "premier degré (école)",
    "autre_type": "autre type d'établissement (ni collège, ni lycée, ni EREA)",
    "autre_nature": "nature non retenue (section rattachée à un lycée, lycée agricole…)",
    "autre_ministere": "autre ministère de tutelle que l'Éducation nationale",
    "sans_academie": "académie manquante",
    "sans_nom": "nom de l'établissement manquant",
}

# The school-holiday zone of each académie (since the 2016 reform), given to an
# académie the import creates; the calendar's import (``import_school_calendar``) sets
# it from the published calendar afterwards.
_ZONE_ACADEMIES = {
    HolidayZone.A: "besancon bordeaux clermont-ferrand dijon grenoble limoges lyon poitiers",
    HolidayZone.B: (
        "aix-marseille amiens caen lille nancy-metz nantes nice normandie orleans-tours "
        "reims rennes rouen strasbourg"
    ),
    HolidayZone.C: "creteil montpellier paris toulouse versailles",
    HolidayZone.CORSE: "corse",
    HolidayZone.GUADELOUPE: "guadeloupe",
    HolidayZone.GUYANE: "guyane",
    HolidayZone.MARTINIQUE: "martinique",
    HolidayZone.MAYOTTE: "mayotte",
    HolidayZone.REUNION: "la-reunion reunion",
    HolidayZone.OUTRE_MER: (
        "polynesie-francaise nouvelle-caledonie saint-pierre-et-miquelon wallis-et-futuna"
    ),
}
ACADEMY_ZONES = {
    academy: zone for zone, academies in _ZONE_ACADEMIES.items() for academy in academies.split()
}

# The preposition and article before a département's name (« Département de la
# Côte-d'Or », « du Nord », « des Yvelines », « de l'Ain »); a name without article
# takes « de » or « d' ».
_DEPARTMENT_ARTICLES = {
    "de la ": (
        "charente charente-maritime correze corse-du-sud haute-corse cote-d-or creuse "
        "dordogne drome haute-garonne gironde loire haute-loire loire-atlantique lozere "
        "manche marne haute-marne mayenne meuse moselle nievre haute-saone sarthe savoie "
        "haute-savoie seine-maritime somme vendee vienne haute-vienne seine-saint-denis "
        "guadeloupe martinique guyane"
    ),
    "du ": (
        "calvados cantal cher doubs finistere gard gers jura loir-et-cher loiret lot "
        "lot-et-garonne morbihan nord pas-de-calais puy-de-dome bas-rhin haut-rhin rhone "
        "tarn tarn-et-garonne var vaucluse territoire-de-belfort val-de-marne val-d-oise"
    ),
    "des ": (
        "alpes-de-haute-provence hautes-alpes alpes-maritimes ardennes bouches-du-rhone "
        "cotes-d-armor landes pyrenees-atlantiques hautes-pyrenees pyrenees-orientales "
        "yvelines deux-sevres vosges hauts-de-seine"
    ),
    "de l'": (
        "ain aisne allier ardeche ariege aube aude aveyron eure herault indre isere oise "
        "orne yonne essonne"
    ),
}
DEPARTMENT_ARTICLES = {
    name: article for article, names in _DEPARTMENT_ARTICLES.items() for name in names.split()
}


class DirectoryFileError(ValueError):
    """The file is not an export of the « Annuaire de l'éducation » dataset."""


def _of(name: str) -> str:
    """« de Dijon », « d'Amiens »: the preposition before a name without article."""
    return f"d'{name}" if normalized(name)[:1] in tuple("aeiouy") else f"de {name}"


def academy_name(label: str) -> str:
    """« Académie de Dijon » for the dataset's ``libelle_academie`` « Dijon »."""
    return f"Académie {_of(label)}"


def department_authority(department: str) -> str:
    """The collectivité of a collège: « Département de la Côte-d'Or »."""
    article = DEPARTMENT_ARTICLES.get(normalized(department))
    return f"Département {article}{department}" if article else f"Département {_of(department)}"


def kind_of(school_type: str, nature: str) -> EstablishmentKind | None:
    """The kind of an EPLE from its type and nature as published, or None for any other
    establishment (a section attached to a lycée, an agricultural lycée…)."""
    kind = normalized(school_type)
    label = normalized(nature).replace("-", " ")
    if kind == "erea" or "enseignement adapte" in label or label.startswith("erea"):
        return EstablishmentKind.EREA
    if label.startswith("college") or (not label and kind == "college"):
        return EstablishmentKind.COLLEGE
    if label.startswith("lycee professionnel"):
        return EstablishmentKind.LYCEE_PROFESSIONNEL
    if not label and kind == "lycee":
        return EstablishmentKind.LYCEE
    if (
        label.startswith("lycee")
        and "agricole" not in label
        and any(word in label for word in ("general", "technologique", "polyvalent"))
    ):
        return EstablishmentKind.LYCEE
    return None


def parse_date(value: str) -> dt.date | None:
    """A date as the exports write it: ``2026-07-07`` or ``07/07/2026``."""
    text = value.strip()[:10]
    if not text:
        return None
    try:
        if re.match(r"^\d{2}/\d{2}/\d{4}$", text):
            day, month, year = text.split("/")
            return dt.date(int(year), int(month), int(day))
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


@dataclass
class Record:
    """What the directory says of one EPLE, as the ``Establishment`` keeps it."""

    uai: str
    name: str
    kind: str
    city: str
    department_code: str
    department_name: str
    local_authority: str
    academy_label: str
    etat: str
    closing_date: dt.date | None


@dataclass
class DirectoryImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    closed: int = 0
    reopened: int = 0
    academies_created: list[str] = field(default_factory=list)
    academies_updated: list[str] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    invalid_uais: list[str] = field(default_factory=list)
    repeated_uais: dict[str, int] = field(default_factory=dict)

    @property
    def skipped_rows(self) -> int:
        return sum(self.skipped.values())


def read_directory(
    lines: Iterable[str],
    result: DirectoryImportResult,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Record]:
    """The EPLE of an export, by UAI (the last row of a UAI wins); the rows left out are
    counted in ``result`` under their reason."""
    try:
        rows = export_rows(lines, COLUMNS, optional=OPTIONAL_COLUMNS)
    except EmptyFile as exc:
        raise DirectoryFileError("Le fichier est vide.") from exc
    except MissingColumns as exc:
        raise DirectoryFileError(
            "Colonne(s) absente(s) : "
            + ", ".join(f"« {name} »" for name in exc.missing)
            + ". Ce fichier n'est pas un export CSV (séparateur point-virgule) du jeu de "
            "données « Annuaire de l'éducation » (fr-en-annuaire-education)."
        ) from exc
    records: dict[str, Record] = {}
    seen: Counter[str] = Counter()
    for cell in rows:
        result.rows += 1
        if progress is not None and result.rows % PROGRESS_EVERY == 0:
            progress(result.rows)
        uai = cell("identifiant_de_l_etablissement").upper()
        reason = _skip_reason(uai, cell)
        if reason is not None:
            result.skipped[reason] += 1
            if reason == "uai_invalide":
                result.invalid_uais.append(uai or "(vide)")
            continue
        seen[uai] += 1
        kind = kind_of(cell("type_etablissement"), cell("libelle_nature"))
        assert kind is not None  # _skip_reason left out every other nature
        department = cell("libelle_departement")
        region = cell("libelle_region")
        if kind == EstablishmentKind.COLLEGE:
            authority = department_authority(department) if department else ""
        else:
            authority = f"Région {region}" if region else ""
        records[uai] = Record(
            uai=uai,
            name=cell("nom_etablissement")[:200],
            kind=kind,
            city=cell("nom_commune")[:120],
            department_code=cell("code_departement")[:3],
            department_name=department[:80],
            local_authority=authority[:200],
            academy_label=cell("libelle_academie"),
            etat=normalized(cell("etat")),
            closing_date=parse_date(cell("date_fermeture")),
        )
    result.repeated_uais = {uai: count for uai, count in sorted(seen.items()) if count > 1}
    return records


def _skip_reason(uai: str, cell: Callable[[str], str]) -> str | None:
    try:
        validate_uai(uai)
    except ValidationError:
        return "uai_invalide"
    if not normalized(cell("statut_public_prive")).startswith("public"):
        return "prive"
    school_type = normalized(cell("type_etablissement"))
    if school_type == "ecole":
        return "premier_degre"
    if school_type not in ("college", "lycee", "erea"):
        return "autre_type"
    ministry = normalized(cell("ministere_tutelle"))
    if ministry and "education-nationale" not in ministry:
        return "autre_ministere"
    if kind_of(cell("type_etablissement"), cell("libelle_nature")) is None:
        return "autre_nature"
    if not cell("libelle_academie"):
        return "sans_academie"
    if not cell("nom_etablissement"):
        return "sans_nom"
    return None


def closed_on(record: Record, known: dt.date | None, today: dt.date) -> dt.date | None:
    """The day an establishment closed: its published closing date, else the day
    already recorded, else today, when the directory says it is closed (« FERME »), or
    when one « A FERMER » has passed its closing date; None while it is open."""
    if record.etat == "ferme":
        return record.closing_date or known or today
    if record.etat == "a-fermer" and record.closing_date and record.closing_date <= today:
        return record.closing_date
    return None


def _academies(records: Iterable[Record], result: DirectoryImportResult) -> dict[str, Academy]:
    """The académie of each ``libelle_academie``, created when missing: found by code
    (``dijon``) or by name (« Académie de Dijon »), whichever an administrator used."""
    known = list(Academy.objects.all())
    by_code = {academy.code: academy for academy in known}
    by_name = {normalized(academy.name): academy for academy in known}
    found: dict[str, Academy] = {}
    for label in sorted({record.academy_label for record in records}):
        code = normalized(label)[:40]
        name = academy_name(label)
        academy = by_code.get(code) or by_name.get(normalized(name))
        if academy is None:
            academy = Academy.objects.create(
                code=code, name=name, holiday_zone=ACADEMY_ZONES.get(code, HolidayZone.A)
            )
            result.academies_created.append(name)
        elif academy.name != name:
            academy.name = name
            academy.save(update_fields=["name"])
            result.academies_updated.append(name)
        found[label] = academy
    return found


FIELDS = (
    "name",
    "kind",
    "city",
    "department_code",
    "department_name",
    "local_authority",
    "academy_id",
    "closed_on",
)


def import_directory(
    lines: Iterable[str],
    *,
    today: dt.date | None = None,
    progress: Callable[[int], None] | None = None,
) -> DirectoryImportResult:
    """Create or update the académies and EPLE of an export of the directory, in one
    transaction: either the whole file is loaded, or nothing is."""
    today = today or timezone.localdate()
    result = DirectoryImportResult()
    records = read_directory(lines, result, progress)
    with transaction.atomic():
        academies = _academies(records.values(), result)
        existing = {
            establishment.uai: establishment
            for establishment in Establishment.objects.filter(uai__in=list(records))
        }
        to_create: list[Establishment] = []
        to_update: list[Establishment] = []
        for uai, record in records.items():
            current = existing.get(uai)
            values = {
                "name": record.name,
                "kind": record.kind,
                "city": record.city,
                "department_code": record.department_code,
                "department_name": record.department_name,
                "local_authority": record.local_authority,
                "academy_id": academies[record.academy_label].pk,
                "closed_on": closed_on(record, current.closed_on if current else None, today),
            }
            if current is None:
                to_create.append(Establishment(uai=uai, **values))
                result.closed += values["closed_on"] is not None
                continue
            if all(getattr(current, name) == value for name, value in values.items()):
                result.unchanged += 1
                continue
            if current.closed_on is None and values["closed_on"] is not None:
                result.closed += 1
            elif current.closed_on is not None and values["closed_on"] is None:
                result.reopened += 1
            for name, value in values.items():
                setattr(current, name, value)
            to_update.append(current)
        Establishment.objects.bulk_create(to_create, batch_size=500)
        Establishment.objects.bulk_update(to_update, FIELDS, batch_size=500)
        result.created, result.updated = len(to_create), len(to_update)
    return result
