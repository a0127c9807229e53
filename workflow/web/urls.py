"""The pages' addresses (French paths, DESIGN §8)."""

from django.urls import path

from workflow.web import (
    comments,
    dashboard,
    editor,
    letters,
    meetings,
    report,
    signatures,
    verify,
)

urlpatterns = [
    path("", letters.todo, name="home"),
    path("lettres/", letters.letter_list, name="letters-page"),
    path("lettres/nouvelle/", letters.letter_new, name="letter-page-new"),
    path("lettres/<int:letter_id>/", letters.letter_detail, name="letter-page"),
    path("lettres/<int:letter_id>/modifier/", editor.letter_edit, name="letter-page-edit"),
    path(
        "lettres/<int:letter_id>/modifier/enveloppe/",
        editor.letter_envelope,
        name="letter-page-envelope",
    ),
    path("lettres/<int:letter_id>/actions/<str:name>/", letters.fire, name="letter-page-fire"),
    path("lettres/<int:letter_id>/commentaires/", comments.comment, name="letter-page-comment"),
    path(
        "lettres/<int:letter_id>/commentaires/<int:comment_id>/corriger/",
        comments.comment_edit,
        name="letter-page-comment-edit",
    ),
    path(
        "lettres/<int:letter_id>/commentaires/<int:comment_id>/supprimer/",
        comments.comment_delete,
        name="letter-page-comment-delete",
    ),
    path(
        "lettres/<int:letter_id>/commentaires/<int:comment_id>/traitee/",
        comments.comment_resolve,
        name="letter-page-comment-resolve",
    ),
    path("lettres/<int:letter_id>/compte-rendu/", report.report, name="letter-page-report"),
    path("lettres/<int:letter_id>/reconduire/", letters.renew, name="letter-page-renew"),
    path("lettres/<int:letter_id>/relancer/", letters.remind, name="letter-page-remind"),
    path(
        "lettres/<int:letter_id>/signatures/<int:signature_id>/scan.pdf",
        signatures.paper_scan,
        name="letter-page-signature-scan",
    ),
    path(
        "lettres/<int:letter_id>/lettre-scellee.pdf", verify.sealed_pdf, name="letter-page-sealed"
    ),
    # The public check of sealed letters: no sign-in.
    path("verifier/", verify.verify_upload, name="verify_upload"),
    path("verifier/<str:token>/", verify.verify_letter, name="verify_letter"),
    path("tableau-de-bord/", dashboard.dashboard, name="dashboard"),
    path("tableau-de-bord/export.csv", dashboard.dashboard_csv, name="dashboard-csv"),
    path("tableau-de-bord/export.xlsx", dashboard.dashboard_xlsx, name="dashboard-xlsx"),
    path("seances/", meetings.meeting_list, name="meetings-page"),
    path("seances/calendrier.ics", meetings.meetings_ics, name="meetings-ics"),
    path("seances/nouvelle/", meetings.meeting_new, name="meeting-page-new"),
    path("seances/<int:meeting_id>/avis/", meetings.meeting_opinions, name="meeting-opinions-page"),
    path("seances/<int:meeting_id>/calendrier.ics", meetings.meeting_ics, name="meeting-ics"),
]
