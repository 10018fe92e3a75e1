"""The public survey page reached from a score link: no login, no session; the signed token
(invitation + score) is the only key, and nothing personal is asked again.

Why GET records nothing: mail security scanners (Safe Links, Mimecast, ...) fetch every link
in an email before the reader sees it. Recording on GET would record all eleven scores in
turn, leaving whichever was fetched last, and a 0-6 would create a call-back task and pause
promotions for a customer who never answered. So GET shows the chosen score with an optional
comment box and one "Send" button; the POST records it. For a person this is the click in
the email plus one press (the same pattern as the unsubscribe page); for a scanner, nothing.
"""
from django import forms
from django.contrib.auth.decorators import login_not_required
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from customers.language import activate_contact_language

from .models import SurveyInvite, SurveyResponse
from .nps import SCORES
from .services import survey_answer
from .tokens import survey_token_read


class CommentForm(forms.Form):
    comment = forms.CharField(
        label=_("Anything you would like to tell us? (optional)"), required=False,
        max_length=2000, widget=forms.Textarea(attrs={"rows": 4}))


# CSRF protection is off for this view only, as for unsubscribe: there is no session to abuse,
# and the signed token in the URL is the whole authorisation (whoever holds it can answer for
# that one email anyway). The form works with cookies blocked, as many email readers' are.
@csrf_exempt
@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def answer(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invite_id, score = survey_token_read(token)
    except signing.SignatureExpired:
        return render(request, "feedback/survey_closed.html", status=410)
    except signing.BadSignature:
        return render(request, "feedback/survey_invalid.html", status=400)
    invite = SurveyInvite.objects.filter(pk=invite_id).select_related("contact").first()
    if invite is None:  # the contact was erased since
        return render(request, "feedback/survey_closed.html", status=410)
    activate_contact_language(request, invite.contact)
    if request.method == "POST":
        return _record(request, invite, score)
    previous = SurveyResponse.objects.filter(invite=invite).first()
    form = CommentForm(initial={"comment": previous.comment if previous else ""})
    return render(request, "feedback/survey_confirm.html", _page(invite, score, form, previous))


def _record(request: HttpRequest, invite: SurveyInvite, score: int) -> HttpResponse:
    form = CommentForm(request.POST)
    if not form.is_valid():
        return render(request, "feedback/survey_confirm.html",
                      _page(invite, score, form, None), status=400)
    response = survey_answer(invite=invite, score=score, language=get_language() or "",
                             comment=form.cleaned_data["comment"])
    return render(request, "feedback/survey_thanks.html",
                  {**_page(invite, score, form, response), "response": response})


def _page(invite: SurveyInvite, score: int, form: CommentForm,
          previous: SurveyResponse | None) -> dict:
    # No links to the other scores here: new tokens would restart the survey's expiry. To
    # change the answer, the reader clicks another number in the email.
    return {"score": score, "scores": SCORES, "form": form, "previous": previous}
