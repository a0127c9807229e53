from django.urls import path
from rest_framework.routers import SimpleRouter

from workflow.api.views import (
    ArchivePdf,
    FireTransition,
    LetterViewSet,
    MeetingViewSet,
    ReportPdf,
)

router = SimpleRouter(use_regex_path=False)
router.register("letters", LetterViewSet, basename="letter")
router.register("meetings", MeetingViewSet, basename="meeting")

urlpatterns = [
    path(
        "letters/<int:pk>/transitions/<str:name>/",
        FireTransition.as_view(),
        name="letter-fire-transition",
    ),
    path(
        "letters/<int:pk>/archives/<int:sequence>/pdf/",
        ArchivePdf.as_view(),
        name="letter-archive-pdf",
    ),
    path("letters/<int:pk>/report/pdf/", ReportPdf.as_view(), name="letter-report-pdf"),
    *router.urls,
]
