from django.urls import path
from rest_framework.routers import SimpleRouter

from workflow.api.views import FireTransition, LetterViewSet, MeetingViewSet

router = SimpleRouter(use_regex_path=False)
router.register("letters", LetterViewSet, basename="letter")
router.register("meetings", MeetingViewSet, basename="meeting")

urlpatterns = [
    path(
        "letters/<int:pk>/transitions/<str:name>/",
        FireTransition.as_view(),
        name="letter-fire-transition",
    ),
    *router.urls,
]
