"""Governance pages. For now only the signed-in landing page; the "À faire" page and
the rest of the pages come with the workflow."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from governance.models import User
from governance.selectors import roles_of


@login_required
def home(request: HttpRequest) -> HttpResponse:
    assert isinstance(request.user, User)
    return render(request, "governance/home.html", {"roles": roles_of(request.user)})
