from django.urls import path

from workflow import views

urlpatterns = [
    path("", views.todo, name="home"),
    path("lettres/", views.letter_list, name="letters-page"),
    path("lettres/nouvelle/", views.letter_new, name="letter-page-new"),
    path("lettres/<int:letter_id>/", views.letter_detail, name="letter-page"),
    path("lettres/<int:letter_id>/modifier/", views.letter_edit, name="letter-page-edit"),
    path(
        "lettres/<int:letter_id>/modifier/enveloppe/",
        views.letter_envelope,
        name="letter-page-envelope",
    ),
    path("lettres/<int:letter_id>/actions/<str:name>/", views.fire, name="letter-page-fire"),
    path("lettres/<int:letter_id>/commentaires/", views.comment, name="letter-page-comment"),
    path("lettres/<int:letter_id>/compte-rendu/", views.report, name="letter-page-report"),
    path("tableau-de-bord/", views.dashboard, name="dashboard"),
    path("tableau-de-bord/export.csv", views.dashboard_csv, name="dashboard-csv"),
    path("tableau-de-bord/export.xlsx", views.dashboard_xlsx, name="dashboard-xlsx"),
    path("seances/", views.meeting_list, name="meetings-page"),
    path("seances/calendrier.ics", views.meetings_ics, name="meetings-ics"),
    path("seances/<int:meeting_id>/avis/", views.meeting_opinions, name="meeting-opinions-page"),
    path("seances/<int:meeting_id>/calendrier.ics", views.meeting_ics, name="meeting-ics"),
]
