"""What each transition takes, validated with Django forms so that the API and the
pages get the same French messages. A form only checks shapes and types; the rules
that need the letter are in ``workflow.transitions``."""

from __future__ import annotations

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from workflow.models import OpinionValue


class NoPayload(forms.Form):
    pass


class ReasonPayload(forms.Form):
    reason = forms.CharField(label=_("Motif"), max_length=4000, strip=True)


class OptionalReasonPayload(forms.Form):
    reason = forms.CharField(label=_("Motif"), max_length=4000, strip=True, required=False)


class SubmitPayload(forms.Form):
    meeting = forms.IntegerField(
        label=_("Séance du conseil pédagogique"), required=False, min_value=1
    )


class OpinionPayload(forms.Form):
    meeting = forms.IntegerField(label=_("Séance"), min_value=1)
    opinion = forms.ChoiceField(label=_("Avis"), choices=OpinionValue.choices)
    votes_for = forms.IntegerField(label=_("Pour"), required=False, min_value=0)
    votes_against = forms.IntegerField(label=_("Contre"), required=False, min_value=0)
    abstentions = forms.IntegerField(label=_("Abstentions"), required=False, min_value=0)
    not_voting = forms.IntegerField(
        label=_("Ne prennent pas part au vote"), required=False, min_value=0
    )
    members_present = forms.IntegerField(label=_("Membres présents"), required=False, min_value=0)
    remarks = forms.CharField(label=_("Observations"), required=False, max_length=8000)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("opinion") == OpinionValue.RESERVE and not data.get("remarks"):
            self.add_error("remarks", _("Un avis réservé s'accompagne de ses observations."))
        return data


class ShownVersionPayload(forms.Form):
    """The sha256 of the version the person was shown: what they agree to, or sign."""

    snapshot_sha256 = forms.CharField(
        label=_("Empreinte de la version présentée"),
        validators=[RegexValidator(r"^[0-9a-f]{64}$", _("Une empreinte SHA-256 en hexadécimal."))],
    )
