"""Shapes of the letter API (DESIGN §7). Serializers only shape and type-check; every
rule is applied by ``workflow.services``, which the views call."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from governance.models import Meeting, MissionPriority
from workflow.models import (
    AuditEvent,
    Comment,
    FollowUp,
    LetterState,
    Means,
    OpinionValue,
    OutcomeStatus,
    PeriodKind,
    RecognitionMode,
    YearEndReport,
)
from workflow.selectors.comments import editable_until, request_state
from workflow.services.comments import MAX_LENGTH
from workflow.services.content import (
    MAX_INDICATORS,
    MAX_MISSIONS,
    MAX_REFERENTS,
    MAX_SHARE,
    MAX_TARGET,
    MAX_TEXT,
)


class ReferentSerializer(serializers.Serializer):
    user = serializers.CharField(help_text="Identifiant (username) du référent.")
    name = serializers.CharField(read_only=True)
    mode = serializers.ChoiceField(choices=RecognitionMode.choices)
    imp_amount = serializers.DecimalField(
        max_digits=8, decimal_places=2, allow_null=True, required=False, min_value=Decimal("0")
    )
    decharge_hours = serializers.DecimalField(
        max_digits=5, decimal_places=2, allow_null=True, required=False, min_value=Decimal("0")
    )
    share = serializers.CharField(required=False, allow_blank=True, max_length=MAX_SHARE)
    agreed_version = serializers.IntegerField(read_only=True, allow_null=True)


class MissionSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    catalog_item = serializers.IntegerField(allow_null=True, required=False, min_value=1)
    text = serializers.CharField(required=False, allow_blank=True, max_length=MAX_TEXT)
    priority = serializers.ChoiceField(choices=MissionPriority.choices, required=False)
    referents = serializers.ListField(child=serializers.CharField(), required=False)
    outside_scope = serializers.BooleanField(read_only=True)


class IndicatorSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    text = serializers.CharField(max_length=MAX_TEXT)
    target = serializers.CharField(required=False, allow_blank=True, max_length=MAX_TARGET)


class WarningSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()


class LetterSerializer(serializers.Serializer):
    """A letter as read (DESIGN §7): the shape the schema publishes. ``snapshot_sha256``
    is the hash a signer is shown and signs.

    It declares the representation, it does not make it: ``workflow.api.representations``
    builds it from plain rows for a whole page at once, and a test feeds every
    representation back through these fields to check that the two agree. Given a
    ``MissionLetter`` instead of such a representation, it would not read it."""

    id = serializers.IntegerField(read_only=True)
    establishment = serializers.CharField(read_only=True, help_text="UAI de l'établissement.")
    school_year = serializers.CharField(read_only=True)
    state = serializers.ChoiceField(choices=LetterState.choices, read_only=True)
    state_label = serializers.CharField(read_only=True)
    version = serializers.IntegerField(read_only=True)
    period_kind = serializers.ChoiceField(choices=PeriodKind.choices, read_only=True)
    period_start = serializers.DateField(read_only=True, allow_null=True)
    period_end = serializers.DateField(read_only=True, allow_null=True)
    referents = ReferentSerializer(many=True, read_only=True)
    missions = MissionSerializer(many=True, read_only=True)
    indicators = IndicatorSerializer(many=True, read_only=True)
    means = serializers.ListField(
        child=serializers.ChoiceField(choices=Means.choices), read_only=True
    )
    means_other = serializers.CharField(read_only=True)
    follow_up = serializers.ChoiceField(choices=FollowUp.choices, read_only=True)
    qualification = serializers.CharField(read_only=True)
    dane_training = serializers.CharField(read_only=True)
    renewed_from = serializers.IntegerField(read_only=True, allow_null=True)
    warnings = WarningSerializer(many=True, read_only=True)
    snapshot_sha256 = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class VersionSerializer(serializers.Serializer):
    """A version of a letter, as listed: its number, the hash of its content, when and
    by whom it was established."""

    version = serializers.IntegerField(source="number", read_only=True)
    content_sha256 = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    created_by = serializers.SerializerMethodField()

    def get_created_by(self, version: Any) -> str | None:
        return None if version.created_by is None else version.created_by.username


class VersionContentSerializer(VersionSerializer):
    """A version with its content exactly as stored and hashed (canonical JSON of
    ``workflow.snapshot.content_snapshot``)."""

    content = serializers.JSONField(read_only=True)


class ChangeSerializer(serializers.Serializer):
    section = serializers.ChoiceField(
        choices=["referents", "missions", "indicators", "period", "means", "follow_up"]
    )
    kind = serializers.ChoiceField(choices=["added", "removed", "changed"])
    before = serializers.CharField(allow_null=True)
    after = serializers.CharField(allow_null=True)

    def get_fields(self) -> dict[str, serializers.Field]:
        # ``label`` names an attribute of every DRF field: declared here, not above.
        fields = super().get_fields()
        fields["label"] = serializers.CharField()
        return fields


class VersionDiffSerializer(serializers.Serializer):
    """What changed from version ``from`` to version ``to``."""

    changes = ChangeSerializer(many=True)

    def get_fields(self) -> dict[str, serializers.Field]:
        # ``from`` is a Python keyword: declared here, not above.
        fields = super().get_fields()
        fields["from"] = serializers.IntegerField()
        fields["to"] = serializers.IntegerField()
        return fields


class LetterContentSerializer(serializers.Serializer):
    """The editable content of a letter. Sections given replace the current ones."""

    period_kind = serializers.ChoiceField(choices=PeriodKind.choices, required=False)
    period_start = serializers.DateField(required=False, allow_null=True)
    period_end = serializers.DateField(required=False, allow_null=True)
    # Documents the bounds the service applies (workflow.services.content).
    referents: serializers.ListSerializer[Any] = serializers.ListSerializer(
        child=ReferentSerializer(), required=False, max_length=MAX_REFERENTS
    )
    missions: serializers.ListSerializer[Any] = serializers.ListSerializer(
        child=MissionSerializer(), required=False, max_length=MAX_MISSIONS
    )
    indicators: serializers.ListSerializer[Any] = serializers.ListSerializer(
        child=IndicatorSerializer(), required=False, max_length=MAX_INDICATORS
    )
    means = serializers.ListField(
        child=serializers.ChoiceField(choices=Means.choices), required=False
    )
    means_other = serializers.CharField(required=False, allow_blank=True, max_length=300)
    follow_up = serializers.ChoiceField(choices=FollowUp.choices, required=False)
    qualification = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    dane_training = serializers.CharField(required=False, allow_blank=True, max_length=4000)


class LetterCreateSerializer(LetterContentSerializer):
    establishment = serializers.CharField(help_text="UAI de l'établissement.")
    school_year = serializers.CharField(help_text="Année scolaire, par exemple 2027-2028.")


class LetterRenewSerializer(serializers.Serializer):
    """``POST /letters/{id}/renew/``: the school year of the draft to make."""

    school_year = serializers.CharField(help_text="Année scolaire, par exemple 2027-2028.")


class LetterUpdateSerializer(LetterContentSerializer):
    version = serializers.IntegerField(
        min_value=1,
        help_text="La version sur laquelle la modification se fonde ; si la lettre a changé "
        "depuis, la réponse est 409 `stale_version`.",
    )


class AvailableTransitionSerializer(serializers.Serializer):
    name = serializers.CharField()
    # DESIGN §7 names this field "label"; the stubs confuse it with Field.label.
    label = serializers.CharField()  # type: ignore[assignment]
    target = serializers.ChoiceField(choices=LetterState.choices)
    ready = serializers.BooleanField(help_text="Faux quand des conditions restent à remplir.")
    unmet = serializers.ListField(child=serializers.DictField(child=serializers.CharField()))


class TransitionPayloadSerializer(serializers.Serializer):
    """Every transition's payload: each transition reads the fields it needs."""

    reason = serializers.CharField(required=False, max_length=4000)
    meeting = serializers.IntegerField(required=False, min_value=1)
    opinion = serializers.ChoiceField(choices=OpinionValue.choices, required=False)
    votes_for = serializers.IntegerField(required=False, min_value=0, max_value=1000)
    votes_against = serializers.IntegerField(required=False, min_value=0, max_value=1000)
    abstentions = serializers.IntegerField(required=False, min_value=0, max_value=1000)
    not_voting = serializers.IntegerField(required=False, min_value=0, max_value=1000)
    members_present = serializers.IntegerField(required=False, min_value=0, max_value=1000)
    remarks = serializers.CharField(required=False, allow_blank=True, max_length=8000)
    snapshot_sha256 = serializers.RegexField(r"^[0-9a-f]{64}$", required=False)
    board_meeting = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="Avis du conseil pédagogique : la séance du CA où la lettre est inscrite.",
    )
    votes_confirmed = serializers.BooleanField(
        required=False,
        help_text="Le conseil a bien rendu cet avis, même si le décompte des voix semble "
        "dire autre chose (sinon 400 sur votes_confirmed).",
    )
    signer = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="Signature manuscrite : l'identifiant du signataire encore attendu. Cette "
        "transition s'envoie en multipart/form-data, avec le scan PDF de la lettre signée "
        "dans le champ « scan » (10 Mo au plus).",
    )
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="Signature manuscrite : la version imprimée et signée (la version "
        "actuelle ; omise, c'est elle).",
    )


class CommentSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", read_only=True)
    author_name = serializers.CharField(source="author.get_full_name", read_only=True)
    mission = serializers.IntegerField(source="mission_id", required=False, allow_null=True)
    indicator = serializers.IntegerField(source="indicator_id", required=False, allow_null=True)
    body = serializers.CharField(
        max_length=MAX_LENGTH, help_text="Vide quand son auteur l'a supprimé (`deleted_at`)."
    )
    is_change_request = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Demande de modification de la lettre (un référent seulement).",
    )
    answers = serializers.IntegerField(
        source="answers_id",
        required=False,
        allow_null=True,
        help_text="La demande de modification à laquelle ce message répond (le chef "
        "d'établissement ou son adjoint par délégation).",
    )
    answers_revision = serializers.IntegerField(
        write_only=True,
        required=False,
        allow_null=True,
        help_text="La révision de la demande telle que le client l'a lue (son `revision`) : "
        "corrigée ou supprimée depuis, la réponse est refusée (409 `stale_revision`).",
    )
    request_state = serializers.SerializerMethodField(
        help_text="Pour une demande de modification : `open` tant que personne n'y a répondu "
        "ni ne l'a marquée traitée, puis `answered` ou `resolved` ; sinon `null`."
    )
    resolved_by = serializers.CharField(
        source="resolved_by.username", read_only=True, allow_null=True
    )
    editable_until = serializers.SerializerMethodField(
        help_text="Jusqu'à quand son auteur peut le corriger (PATCH) ou le supprimer (DELETE)."
    )
    revision = serializers.IntegerField(
        read_only=True,
        help_text="Avance à chaque changement du message (correction, suppression, marqué "
        "traité) ; c'est aussi son `ETag`, que PATCH, DELETE et resolve renvoient dans "
        "`If-Match`.",
    )

    class Meta:
        model = Comment
        fields = [
            "id",
            "author",
            "author_name",
            "body",
            "mission",
            "indicator",
            "anchor_text",
            "version",
            "created_at",
            "edited_at",
            "deleted_at",
            "editable_until",
            "is_change_request",
            "answers",
            "answers_revision",
            "request_state",
            "resolved_at",
            "resolved_by",
            "revision",
        ]
        read_only_fields = [
            "id",
            "author",
            "author_name",
            "anchor_text",
            "version",
            "created_at",
            "edited_at",
            "deleted_at",
            "resolved_at",
        ]

    @extend_schema_field(
        serializers.ChoiceField(choices=["open", "answered", "resolved"], allow_null=True)
    )
    def get_request_state(self, comment: Comment) -> str | None:
        return request_state(comment)

    @extend_schema_field(serializers.DateTimeField())
    def get_editable_until(self, comment: Comment) -> str:
        return serializers.DateTimeField().to_representation(editable_until(comment))


class CommentEditSerializer(serializers.Serializer):
    """A correction: the message's new text."""

    body = serializers.CharField(max_length=MAX_LENGTH)


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", read_only=True, allow_null=True)

    class Meta:
        model = AuditEvent
        fields = [
            "sequence",
            "action",
            "from_state",
            "to_state",
            "actor",
            "actor_label",
            "quality",
            "created_at",
            "payload",
            "snapshot_sha256",
            "previous_hash",
            "hash",
        ]
        read_only_fields = fields


class ArchiveSerializer(serializers.ModelSerializer):
    """One step of the history and its PDF, once rendered (``ready``)."""

    ready = serializers.SerializerMethodField()
    sha256 = serializers.SerializerMethodField()
    size = serializers.SerializerMethodField()
    pdf = serializers.SerializerMethodField()

    class Meta:
        model = AuditEvent
        fields = ["sequence", "action", "created_at", "ready", "sha256", "size", "pdf"]
        read_only_fields = fields

    def _archive(self, event: AuditEvent) -> Any:
        return getattr(event, "archive", None)

    def get_ready(self, event: AuditEvent) -> bool:
        return self._archive(event) is not None

    def get_sha256(self, event: AuditEvent) -> str | None:
        archive = self._archive(event)
        return archive.sha256 if archive else None

    def get_size(self, event: AuditEvent) -> int | None:
        archive = self._archive(event)
        return archive.size if archive else None

    def get_pdf(self, event: AuditEvent) -> str | None:
        if self._archive(event) is None:
            return None
        return f"/api/v1/letters/{event.letter_id}/archives/{event.sequence}/pdf/"


class OutcomeSerializer(serializers.Serializer):
    mission = serializers.IntegerField(source="mission_id")
    mission_text = serializers.CharField(source="mission.text", read_only=True)
    status = serializers.ChoiceField(choices=OutcomeStatus.choices, allow_blank=True)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=8000)
    revision = serializers.IntegerField(
        required=False,
        help_text="La révision lue ; une entrée modifiée depuis par un autre est refusée (409).",
    )


class ResultSerializer(serializers.Serializer):
    indicator = serializers.IntegerField(source="indicator_id")
    indicator_text = serializers.CharField(source="indicator.text", read_only=True)
    result = serializers.CharField(allow_blank=True, max_length=8000)
    revision = serializers.IntegerField(
        required=False,
        help_text="La révision lue ; une entrée modifiée depuis par un autre est refusée (409).",
    )


class ReportSerializer(serializers.ModelSerializer):
    outcomes = OutcomeSerializer(many=True, required=False)
    results = ResultSerializer(many=True, required=False)
    submitted_by = serializers.CharField(
        source="submitted_by.username", read_only=True, allow_null=True
    )

    class Meta:
        model = YearEndReport
        fields = [
            "difficulties",
            "training_needs",
            "proposals",
            "revision",
            "outcomes",
            "results",
            "submitted_at",
            "submitted_by",
            "updated_at",
        ]
        read_only_fields = ["submitted_at", "submitted_by", "updated_at"]
        extra_kwargs = {
            "difficulties": {"required": False, "max_length": 8000},
            "training_needs": {"required": False, "max_length": 8000},
            "proposals": {"required": False, "max_length": 8000},
            "revision": {
                "required": False,
                "help_text": "La révision lue des trois textes du bilan, qui forment une entrée.",
            },
        }


MEETING_YEARS = (2000, 2100)


class MeetingSerializer(serializers.ModelSerializer):
    """DESIGN §7: ``{id, establishment, council, date, convocation, members_in_office}``."""

    establishment = serializers.CharField(source="council.establishment.uai")
    council = serializers.ChoiceField(source="council.kind", choices=["pedagogical", "board"])
    date = serializers.DateTimeField(source="starts_at")
    agenda = serializers.SerializerMethodField()

    class Meta:
        model = Meeting
        fields = [
            "id",
            "establishment",
            "council",
            "date",
            "convocation",
            "members_in_office",
            "location",
            "minutes_reference",
            "agenda",
        ]
        read_only_fields = ["id", "agenda"]
        extra_kwargs = {"members_in_office": {"required": False}}

    def validate_date(self, value: dt.datetime) -> dt.datetime:
        if not MEETING_YEARS[0] <= value.year <= MEETING_YEARS[1]:
            raise serializers.ValidationError(
                _("Une séance se tient entre %(first)s et %(last)s.")
                % {"first": MEETING_YEARS[0], "last": MEETING_YEARS[1]}
            )
        return value

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_agenda(self, meeting: Meeting) -> list[int]:
        visible = self.context.get("visible_letter_ids")
        return [
            item.letter_id
            for item in meeting.agenda_items.all()
            if visible is None or item.letter_id in visible
        ]


class MeetingOpinionRowSerializer(TransitionPayloadSerializer):
    letter = serializers.IntegerField(min_value=1)
    opinion = serializers.ChoiceField(choices=OpinionValue.choices)


class MeetingOpinionsSerializer(serializers.Serializer):
    opinions = MeetingOpinionRowSerializer(many=True)
