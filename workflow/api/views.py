"""The letter API (DESIGN §7). Views only translate HTTP to the services and back: the
visibility, the roles and every rule are the services' (same as the pages)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import django_filters
from csp.decorators import csp_replace
from django import forms as django_forms
from django.db import transaction
from django.db.models import Prefetch, QuerySet, Subquery
from django.http import FileResponse, HttpResponse, HttpResponseBase, QueryDict
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.models import Council, Establishment, Meeting, SchoolYear, User
from governance.selectors import establishments_visible_to, signed_in_user
from governance.services import schedule_meeting
from workflow.api.representations import letter_representations
from workflow.api.serializers import (
    ArchiveSerializer,
    AuditEventSerializer,
    AvailableTransitionSerializer,
    CommentEditSerializer,
    CommentSerializer,
    LetterCreateSerializer,
    LetterRenewSerializer,
    LetterSerializer,
    LetterUpdateSerializer,
    MeetingOpinionsSerializer,
    MeetingSerializer,
    ReportSerializer,
    TransitionPayloadSerializer,
    VersionContentSerializer,
    VersionDiffSerializer,
    VersionSerializer,
)
from workflow.audit.pdf import render_letter_pdf, render_report_pdf
from workflow.audit.snapshot import full_snapshot
from workflow.audit.versions import version_changes, version_of
from workflow.lifecycle.engine import available_transitions, fire_transition
from workflow.lifecycle.table import TRANSITIONS
from workflow.models import (
    AgendaItem,
    Archive,
    AuditEvent,
    LetterState,
    LetterVersion,
    MissionLetter,
    YearEndReport,
)
from workflow.selectors.comments import thread
from workflow.selectors.visibility import get_visible_letter, meetings_visible_to, visible_letters
from workflow.services.comments import (
    add_comment,
    delete_comment,
    edit_comment,
    resolve_change_request,
)
from workflow.services.content import update_letter
from workflow.services.letters import create_letter, renew_letter
from workflow.services.meetings import record_meeting_opinions
from workflow.services.reminders import remind_awaited
from workflow.services.report import save_report
from workflow.services.writes import as_id


def _object(request: Request) -> dict[str, Any]:
    """The request's body, which must be a JSON object: the services validate its
    fields, once for the API and the pages alike."""
    if not isinstance(request.data, dict):
        raise exceptions.ValidationError({"body": [_("Un objet JSON est attendu.")]})
    return dict(request.data)


def _comment_response(
    letter: MissionLetter, comment_id: int, code: int = status.HTTP_200_OK
) -> Response:
    """A message of the thread as the API shows it, with the state of a change request,
    and its revision as the ``ETag`` a PATCH, DELETE or resolve sends back in
    ``If-Match``."""
    comment = thread(letter).get(pk=comment_id)
    response = Response(CommentSerializer(comment).data, status=code)
    response["ETag"] = f'"{comment.revision}"'
    return response


def _letter_response(user: User, letter_id: int, code: int = status.HTTP_200_OK) -> Response:
    """The letter as the API shows it, read through the person's scope, with its
    content's revision as the ``ETag`` a PATCH sends back in ``If-Match``."""
    letter = get_visible_letter(user, letter_id)
    response = Response(letter_representations([letter])[0], status=code)
    response["ETag"] = f'"{letter.revision}"'
    return response


def _if_match(request: Request) -> int | None:
    """The revision named by ``If-Match`` (``"7"`` or ``W/"7"``); ``None`` when the
    client sends none (it then edits on the ``version`` alone, as before)."""
    header = request.headers.get("If-Match", "").strip()
    if not header:
        return None
    tag = header.removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise exceptions.ValidationError(
            {"If-Match": [_("L'en-tête If-Match reprend l'ETag reçu, par exemple \"3\".")]}
        )
    return int(tag)


def _version_or_404(request: Request, letter_id: str, number: int) -> LetterVersion:
    letter = get_visible_letter(signed_in_user(request), int(letter_id))
    version = version_of(letter, number)
    if version is None:
        raise exceptions.NotFound(
            _("La lettre n'a pas de version %(number)s.") % {"number": number}
        )
    return version


def framed_by_own_pages(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponseBase]:
    """Let the application's own pages show this PDF in a frame (the signature's
    preview); every other origin is still refused. Chromium's PDF viewer is an embedded
    plugin, so the PDF's own policy must allow it too."""
    framed = csp_replace({"frame-ancestors": ["'self'"], "object-src": ["'self'"]})(view)
    return xframe_options_sameorigin(framed)


class LetterFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=LetterState.choices)
    school_year = django_filters.CharFilter(method="filter_school_year")
    establishment = django_filters.CharFilter(field_name="establishment__uai")

    class Meta:
        model = MissionLetter
        fields = ["state", "school_year", "establishment"]

    def filter_school_year(
        self, queryset: QuerySet[MissionLetter], name: str, value: str
    ) -> QuerySet[MissionLetter]:
        """On the year's id, read by a sub-select: joined on the code, PostgreSQL read
        every letter of the académie's year to sort them, rather than the newest 50
        from the (académie, year, id) index."""
        year = SchoolYear.objects.filter(code=value).values("pk")[:1]
        return queryset.filter(school_year_id=Subquery(year))


class LetterViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[MissionLetter],
):
    """Letters the caller may see (DESIGN §1): a teacher only the letters naming them,
    the establishment's staff its letters, the DAN every letter of its académie."""

    serializer_class = LetterSerializer
    filterset_class = LetterFilter
    ordering_fields = ["id", "created_at", "updated_at", "state", "version"]
    ordering = ["-id"]
    # PUT only for the report: the letter itself has no update(), so PUT on it is a 405.
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    lookup_value_converter = "int"

    def get_queryset(self) -> QuerySet[MissionLetter]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return MissionLetter.objects.none()
        return visible_letters(signed_in_user(self.request))

    def get_object(self) -> MissionLetter:
        return get_visible_letter(signed_in_user(self.request), int(self.kwargs["pk"]))

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return _letter_response(signed_in_user(request), int(self.kwargs["pk"]))

    def _paginated(
        self, queryset: QuerySet[Any], serializer_class: type[serializers.BaseSerializer[Any]]
    ) -> Response:
        assert self.paginator is not None
        page = self.paginator.paginate_queryset(queryset, self.request, view=self)
        assert page is not None
        return self.paginator.get_paginated_response(serializer_class(page, many=True).data)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        assert page is not None
        return self.get_paginated_response(letter_representations(page))

    @extend_schema(responses=VersionSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def versions(self, request: Request, pk: str) -> Response:
        """Every version of the letter, oldest first, with the hash of its content."""
        letter = get_visible_letter(signed_in_user(request), int(pk))
        versions = LetterVersion.objects.filter(letter=letter).select_related("created_by")
        return Response(VersionSerializer(versions, many=True).data)

    @extend_schema(responses=VersionContentSerializer)
    @action(
        detail=True,
        methods=["get"],
        url_path="versions/<int:number>",
        pagination_class=None,
        filter_backends=[],
    )
    def version(self, request: Request, pk: str, number: int) -> Response:
        """One version as it was stored: its content, exactly as hashed."""
        version = _version_or_404(request, pk, number)
        return Response(VersionContentSerializer(version).data)

    @extend_schema(responses=VersionDiffSerializer)
    @action(
        detail=True,
        methods=["get"],
        url_path="versions/<int:number>/diff",
        pagination_class=None,
        filter_backends=[],
    )
    def version_diff(self, request: Request, pk: str, number: int) -> Response:
        """What changed from the version before this one to this one."""
        version = _version_or_404(request, pk, number)
        previous = version_of(version.letter, version.number - 1)
        if previous is None:
            raise exceptions.NotFound(
                _("La version %(number)s est la première.") % {"number": number}
            )
        changes = version_changes(previous.content, version.content)
        return Response(
            {
                "from": previous.number,
                "to": version.number,
                "changes": [change.as_dict() for change in changes],
            }
        )

    @extend_schema(request=LetterCreateSerializer, responses={201: LetterSerializer})
    def create(self, request: Request) -> Response:
        """Create a draft (principal, or deputy by delegation) with optional content."""
        user = signed_in_user(request)
        content = _object(request)
        establishment = (
            establishments_visible_to(user)
            .filter(uai=str(content.pop("establishment", "")))
            .first()
        )
        year = SchoolYear.objects.filter(code=str(content.pop("school_year", ""))).first()
        errors = {}
        if establishment is None:
            errors["establishment"] = [_("Établissement inconnu.")]
        if year is None:
            errors["school_year"] = [_("Année scolaire inconnue.")]
        if errors:
            raise exceptions.ValidationError(errors)
        assert isinstance(establishment, Establishment)
        assert year is not None
        with transaction.atomic():
            letter = create_letter(user=user, establishment=establishment, school_year=year)
            if content:
                update_letter(letter_id=letter.pk, user=user, changes=content)
        return _letter_response(user, letter.pk, status.HTTP_201_CREATED)

    @extend_schema(request=LetterUpdateSerializer, responses=LetterSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        """Edit the content while the letter is a draft or in concertation, based on
        ``version``; a stale version is 409 ``stale_version``."""
        user = signed_in_user(request)
        changes = _object(request)
        base_version = changes.pop("version", None)
        if not isinstance(base_version, int) or isinstance(base_version, bool) or base_version < 1:
            raise exceptions.ValidationError(
                {"version": [_("La version sur laquelle porte la modification est requise.")]}
            )
        update_letter(
            letter_id=int(pk),
            user=user,
            changes=changes,
            base_version=base_version,
            base_revision=_if_match(request),
        )
        return _letter_response(user, int(pk))

    @extend_schema(responses=AvailableTransitionSerializer(many=True))
    @action(
        detail=True,
        methods=["get"],
        url_path="transitions",
        pagination_class=None,
        filter_backends=[],
    )
    def transitions(self, request: Request, pk: str) -> Response:
        """The transitions the caller may fire from the current state, with the
        conditions still unmet (``ready`` is false while some are)."""
        user = signed_in_user(request)
        letter = get_visible_letter(user, int(pk))
        return Response(
            [
                {
                    "name": t.name,
                    "label": t.label,
                    "target": t.target,
                    "ready": t.ready,
                    "unmet": [u.as_dict() for u in t.unmet],
                }
                for t in available_transitions(letter, user)
            ]
        )

    @extend_schema(methods=["GET"], responses=CommentSerializer(many=True))
    @extend_schema(methods=["POST"], request=CommentSerializer, responses={201: CommentSerializer})
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def comments(self, request: Request, pk: str) -> Response:
        """The concertation thread; POST adds a message (principal's side or référent):
        a référent's may be a change request, the principal's side may answer one."""
        user = signed_in_user(request)
        letter = get_visible_letter(user, int(pk))
        if request.method == "POST":
            data = _object(request)
            comment = add_comment(
                letter_id=letter.pk,
                user=user,
                body=data.get("body"),
                mission_id=data.get("mission"),
                indicator_id=data.get("indicator"),
                is_change_request=data.get("is_change_request", False),
                answers_id=data.get("answers"),
                answers_revision=data.get("answers_revision"),
            )
            return _comment_response(letter, comment.pk, status.HTTP_201_CREATED)
        return self._paginated(thread(letter), CommentSerializer)

    @extend_schema(
        methods=["PATCH"], request=CommentEditSerializer, responses={200: CommentSerializer}
    )
    @extend_schema(methods=["DELETE"], request=None, responses={200: CommentSerializer})
    @action(
        detail=True,
        methods=["patch", "delete"],
        url_path="comments/<int:comment_id>",
        pagination_class=None,
        filter_backends=[],
        # Letters are never deleted; a message is, by its author (a mark, see below).
        http_method_names=["patch", "delete", "options"],
    )
    def comment(self, request: Request, pk: str, comment_id: int) -> Response:
        """Its author corrects (PATCH ``{body}``) or deletes (DELETE) a message, within
        15 minutes of posting and while nobody has answered it; after that, 409
        ``not_editable``. A deleted message stays in the thread, emptied, with its
        ``deleted_at``. With ``If-Match`` (the message's ``ETag``, its ``revision``), a
        message changed since is 409 ``stale_revision``."""
        user = signed_in_user(request)
        letter = get_visible_letter(user, int(pk))
        base_revision = _if_match(request)
        if request.method == "DELETE":
            delete_comment(
                letter_id=letter.pk, comment_id=comment_id, user=user, base_revision=base_revision
            )
        else:
            data = _object(request)
            edit_comment(
                letter_id=letter.pk,
                comment_id=comment_id,
                user=user,
                body=data.get("body"),
                base_revision=base_revision,
            )
        return _comment_response(letter, comment_id)

    @extend_schema(request=None, responses=CommentSerializer)
    @action(
        detail=True,
        methods=["post"],
        url_path="comments/<int:comment_id>/resolve",
        pagination_class=None,
        filter_backends=[],
    )
    def resolve_comment(self, request: Request, pk: str, comment_id: int) -> Response:
        """The principal's side marks a change request resolved without answering it in
        the thread; on a request already answered or resolved, nothing changes. With
        ``If-Match``, a request corrected since is 409 ``stale_revision``."""
        user = signed_in_user(request)
        letter = get_visible_letter(user, int(pk))
        resolve_change_request(
            letter_id=letter.pk,
            comment_id=comment_id,
            user=user,
            base_revision=_if_match(request),
        )
        return _comment_response(letter, comment_id)

    @extend_schema(responses=AuditEventSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def history(self, request: Request, pk: str) -> Response:
        """Every step of the letter, with its place in the hash chain."""
        letter = get_visible_letter(signed_in_user(request), int(pk))
        events = (
            AuditEvent.objects.filter(letter=letter)
            .select_related("actor")
            .order_by("sequence")
            .defer("snapshot")
        )
        return self._paginated(events, AuditEventSerializer)

    @extend_schema(responses=ArchiveSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def archives(self, request: Request, pk: str) -> Response:
        """The archive of each step (a PDF of the letter as it stood), once rendered."""
        letter = get_visible_letter(signed_in_user(request), int(pk))
        events = (
            AuditEvent.objects.filter(letter=letter)
            .select_related("archive")
            .defer("snapshot", "payload")
            .order_by("sequence")
        )
        return self._paginated(events, ArchiveSerializer)

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    @method_decorator(framed_by_own_pages)
    def pdf(self, request: Request, pk: str) -> HttpResponse:
        """The letter as it stands now, as a PDF (the signature form shows it framed)."""
        letter = get_visible_letter(signed_in_user(request), int(pk))
        return _pdf_response(
            render_letter_pdf(full_snapshot(letter)),
            f"lettre-de-mission-{letter.pk}-v{letter.version}.pdf",
        )

    @extend_schema(request=LetterRenewSerializer, responses={201: LetterSerializer})
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def renew(self, request: Request, pk: str) -> Response:
        """Next year's draft from a letter in force (principal, or deputy by delegation):
        201 and the draft; 409 ``letter_exists`` if that year has its letter."""
        user = signed_in_user(request)
        code = str(_object(request).get("school_year", ""))
        year = SchoolYear.objects.filter(code=code).first()
        if year is None:
            raise exceptions.ValidationError({"school_year": [_("Année scolaire inconnue.")]})
        letter = renew_letter(letter_id=int(pk), user=user, school_year=year)
        return _letter_response(user, letter.pk, status.HTTP_201_CREATED)

    @extend_schema(
        request=inline_serializer(
            "RemindRequest",
            {"person": serializers.CharField(required=False, help_text="id or username")},
        ),
        responses={
            201: inline_serializer(
                "Reminded",
                {
                    "reminded": inline_serializer(
                        "RemindedPerson",
                        {"user": serializers.CharField(), "name": serializers.CharField()},
                        many=True,
                    )
                },
            )
        },
    )
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def remind(self, request: Request, pk: str) -> Response:
        """« Relancer » (principal, or deputy by delegation): an e-mail to whoever the
        letter waits for (``person``: one of them, by id or username; else all not yet
        reminded today). 201 and who was reminded; 409 ``already_reminded`` (with the
        time of today's first) or ``not_awaited``; 403 for anyone else."""
        user = signed_in_user(request)
        person = _object(request).get("person")
        person_id: int | None = None
        if person not in (None, ""):
            if not isinstance(person, int | str) or isinstance(person, bool):
                raise exceptions.ValidationError({"person": [_("Un identifiant est attendu.")]})
            text = str(person)
            person_id = (
                as_id(text)
                if text.isdigit()
                else User.objects.filter(username=text).values_list("pk", flat=True).first() or 0
            )
        reminded = remind_awaited(letter_id=int(pk), user=user, person_id=person_id)
        return Response(
            {
                "reminded": [
                    {"user": p.username, "name": p.get_full_name() or p.username} for p in reminded
                ]
            },
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=ReportSerializer, responses=ReportSerializer)
    @action(detail=True, methods=["get", "put"], pagination_class=None, filter_backends=[])
    def report(self, request: Request, pk: str) -> Response:
        """The year-end report, once due; PUT saves it (référents, while it is due)."""
        user = signed_in_user(request)
        letter = get_visible_letter(user, int(pk))
        if request.method == "PUT":
            save_report(letter_id=letter.pk, user=user, data=_object(request))
        report = (
            YearEndReport.objects.filter(letter=letter)
            .select_related("submitted_by")
            .prefetch_related("outcomes__mission", "results__indicator")
            .first()
        )
        if report is None:
            raise exceptions.NotFound(_("Le compte rendu n'est pas encore ouvert."))
        return Response(ReportSerializer(report).data)


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


class ArchivePdf(APIView):
    """The stored PDF of one step of the letter's history."""

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request: Request, pk: int, sequence: int) -> FileResponse:
        letter = get_visible_letter(signed_in_user(request), pk)
        archive = Archive.objects.filter(event__letter=letter, event__sequence=sequence).first()
        if archive is None:
            raise exceptions.NotFound(_("Cette archive n'est pas (encore) disponible."))
        try:
            stored = archive.file.open("rb")
        except FileNotFoundError as exc:  # storage lost it (a restore that missed it)
            raise exceptions.NotFound(_("Le fichier de cette archive a disparu.")) from exc
        return FileResponse(
            stored, content_type="application/pdf", filename=archive.file.name.rsplit("/", 1)[-1]
        )


class ReportPdf(APIView):
    """The year-end report as a PDF, once it is open."""

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request: Request, pk: int) -> HttpResponse:
        letter = get_visible_letter(signed_in_user(request), pk)
        if not YearEndReport.objects.filter(letter=letter).exists():
            raise exceptions.NotFound(_("Le compte rendu n'est pas encore ouvert."))
        return _pdf_response(
            render_report_pdf(full_snapshot(letter)), f"compte-rendu-{letter.pk}.pdf"
        )


def _takes_files(name: str) -> bool:
    """Whether a transition's payload holds a file (a scan): it is then sent as
    ``multipart/form-data``."""
    spec = TRANSITIONS.get(name)
    return spec is not None and any(
        isinstance(field, django_forms.FileField) for field in spec.payload.base_fields.values()
    )


def _transition_payload(request: Request, name: str) -> dict[str, Any]:
    """A transition's payload: a JSON object, or for a transition that takes a file, the
    fields and files of a ``multipart/form-data`` body (one value each)."""
    if isinstance(request.data, QueryDict) and _takes_files(name):
        return request.data.dict()
    return _object(request)


class FireTransition(APIView):
    """Fire a transition (DESIGN §4) with its payload; answers the letter."""

    @extend_schema(
        request=TransitionPayloadSerializer,
        responses=LetterSerializer,
        parameters=[OpenApiParameter("name", str, OpenApiParameter.PATH, enum=list(TRANSITIONS))],
    )
    def post(self, request: Request, pk: int, name: str) -> Response:
        user = signed_in_user(request)
        # The transition's payload form validates the body (one validation, the
        # pages' too); the serializer above only documents it.
        letter = fire_transition(
            letter_id=pk, name=name, user=user, payload=_transition_payload(request, name)
        )
        # The letter as the transition left it, read under its lock with its
        # establishment and year: the person saw it to fire it, and a transition changes
        # no one's roles, so reading it again through their scope would cost two queries.
        return Response(letter_representations([letter])[0])


class MeetingFilter(django_filters.FilterSet):
    establishment = django_filters.CharFilter(field_name="council__establishment__uai")
    council = django_filters.ChoiceFilter(
        field_name="council__kind", choices=[("pedagogical", "pedagogical"), ("board", "board")]
    )
    upcoming = django_filters.BooleanFilter(method="filter_upcoming")

    class Meta:
        model = Meeting
        fields = ["establishment", "council", "upcoming"]

    def filter_upcoming(
        self, queryset: QuerySet[Meeting], name: str, value: bool
    ) -> QuerySet[Meeting]:
        now = timezone.now()
        return queryset.filter(starts_at__gte=now) if value else queryset.filter(starts_at__lt=now)


class MeetingViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Meeting]
):
    """Meetings of the councils of the establishments the caller may see."""

    serializer_class = MeetingSerializer
    filterset_class = MeetingFilter
    lookup_value_converter = "int"
    ordering_fields = ["starts_at", "id"]
    ordering = ["starts_at", "id"]

    def get_queryset(self) -> QuerySet[Meeting]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Meeting.objects.none()
        return meetings_visible_to(signed_in_user(self.request)).prefetch_related(
            Prefetch("agenda_items", queryset=AgendaItem.objects.order_by("id"))
        )

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if getattr(self, "swagger_fake_view", False):
            return context
        context["visible_letter_ids"] = set(
            visible_letters(signed_in_user(self.request)).values_list("pk", flat=True)
        )
        return context

    @extend_schema(request=MeetingSerializer, responses={201: MeetingSerializer})
    def create(self, request: Request) -> Response:
        """Schedule a meeting (the principal, or the council's secretary)."""
        user = signed_in_user(request)
        serializer = MeetingSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        establishment = (
            establishments_visible_to(user)
            .filter(uai=data["council"]["establishment"]["uai"])
            .first()
        )
        if establishment is None:
            raise exceptions.ValidationError({"establishment": [_("Établissement inconnu.")]})
        kind = data["council"]["kind"]
        council = Council.objects.filter(establishment=establishment, kind=kind).first()
        if council is None:
            raise exceptions.ValidationError(
                {"council": [_("Ce conseil n'est pas encore décrit pour l'établissement.")]}
            )
        meeting = schedule_meeting(
            council,
            by=user,
            starts_at=data["starts_at"],
            convocation=data.get("convocation", 1),
            location=data.get("location", ""),
            members_in_office=data.get("members_in_office"),
        )
        meeting = self.get_queryset().get(pk=meeting.pk)
        return Response(
            MeetingSerializer(meeting, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=MeetingOpinionsSerializer, responses=LetterSerializer(many=True))
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def opinions(self, request: Request, pk: str) -> Response:
        """Record the meeting's opinion on several letters at once: all, or none."""
        user = signed_in_user(request)
        meeting = self.get_object()
        serializer = MeetingOpinionsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        letters = record_meeting_opinions(
            meeting_id=meeting.pk, user=user, opinions=serializer.validated_data["opinions"]
        )
        fresh = visible_letters(user).filter(pk__in=[letter.pk for letter in letters])
        return Response(letter_representations(list(fresh)))
