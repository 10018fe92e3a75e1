"""/api/: DRF authenticates these views itself, so they skip the site's LoginRequiredMiddleware
and answer 401/403 instead of redirecting to the login page.

The schema is open to token clients (SERVE_PERMISSIONS still requires a signed-in user); the
Swagger UI page sends anonymous browsers to the login page. Redoc is not served: its template
loads Google Fonts.
"""
from django.contrib.auth.decorators import login_not_required, login_required
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import campaigns, events, listening, views

app_name = "api"

urlpatterns = [
    path("contacts/", login_not_required(views.ContactListCreate.as_view()), name="contacts"),
    path("contacts/<int:pk>/", login_not_required(views.ContactDetail.as_view()),
         name="contact"),
    path("contacts/<int:pk>/score/", login_not_required(views.ContactScoreView.as_view()),
         name="contact_score"),
    path("purchases/", login_not_required(views.PurchaseListCreate.as_view()), name="purchases"),
    path("purchases/refund/", login_not_required(views.PurchaseRefund.as_view()),
         name="purchase_refund"),
    path("events/", login_not_required(events.EventListCreate.as_view()), name="events"),
    path("campaigns/", login_not_required(campaigns.CampaignList.as_view()), name="campaigns"),
    path("campaigns/<int:pk>/", login_not_required(campaigns.CampaignDetail.as_view()),
         name="campaign"),
    path("campaigns/<int:pk>/runs/", login_not_required(campaigns.CampaignRunListStart.as_view()),
         name="campaign_runs"),
    path("surveys/", login_not_required(listening.SurveyResponseList.as_view()), name="surveys"),
    path("cases/", login_not_required(listening.CaseList.as_view()), name="cases"),
    path("cases/<int:pk>/", login_not_required(listening.CaseDetail.as_view()), name="case"),
    path("schema/", login_not_required(SpectacularAPIView.as_view()), name="schema"),
    # A browser page: anonymous visitors go to the site's login page first. The split view
    # serves its init script from this URL (?script=) instead of inline, for the CSP.
    path("docs/", login_required(SpectacularSwaggerSplitView.as_view(
        url_name="api:schema", template_name="api/swagger_ui.html")), name="docs"),
]
