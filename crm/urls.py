from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts import views as accounts_views

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("status/", views.status, name="status"),
    path("shop/", views.shop_settings, name="shop_settings"),
    path("shop/schedules/", views.schedule_list, name="schedule_list"),
    path("shop/schedules/<int:pk>/", views.schedule_edit, name="schedule_edit"),
    # For load balancers (docs/deployment.md): 200 or 503, anonymous, no session.
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("account/language/", accounts_views.language_update, name="language_update"),
    path("contacts/", include("customers.urls")),  # the import pages
    path("contacts/", include("dashboard.urls")),  # the sales pages
    path("email/", include("campaigns.urls")),
    # An email service's webhooks (CRM_EMAIL_SERVICE): /email/service/<service>/tracking/.
    path("email/service/", include("campaigns.service_urls")),
    path("feedback/", include("feedback.urls")),
    path("cases/", include("support.urls")),
    path("privacy/", include("privacy.urls")),
    path("shops/", include("shops.store_urls")),  # the managers' store pages
    path("shops/", include("shops.urls")),  # the stores' webhooks
    path("api/", include("api.urls")),
    path("admin/", admin.site.urls),
]

# A database outage answers 503 "retry in a minute" everywhere; other errors stay a 500.
handler500 = "crm.errors.server_error"
