"""Campaigns through the API: everyone allowed to see campaigns reads them; managers (who may
change campaigns) start a run. A start is idempotent on the caller's key, so a retried request
cannot email an audience twice."""
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from campaigns.measurement import campaign_progress
from campaigns.models import Campaign, CampaignRun
from campaigns.services import campaign_run_start

from .serializers import StrictFieldsMixin
from .throttling import CountRefusalsMixin


class CampaignSerializer(serializers.ModelSerializer):
    template = serializers.CharField(source="template.name", read_only=True)

    class Meta:
        model = Campaign
        fields = ["id", "name", "kind", "template", "is_active", "audience", "trigger", "event",
                  "event_kind",
                  "event_purchase_number", "delay_days", "holdout_percent",
                  "uplift_window_days", "coupon_kind", "coupon_value", "coupon_valid_days",
                  "created_at", "updated_at"]
        read_only_fields = fields


class CampaignRunSerializer(serializers.ModelSerializer):
    messages = serializers.SerializerMethodField(
        help_text=_("How many of the run's messages are in each status."))

    class Meta:
        model = CampaignRun
        fields = ["id", "campaign", "status", "key", "started_at", "finished_at", "messages"]
        read_only_fields = fields

    def get_messages(self, run: CampaignRun) -> dict[str, int]:
        return campaign_progress(run)


class CampaignRunStartSerializer(StrictFieldsMixin, serializers.Serializer):
    key = serializers.RegexField(
        r"^[A-Za-z0-9._:-]{1,48}$", required=False,
        help_text=_("Your id for this start (letters, digits, . _ : -): a retry with the same key "
                    "returns the run already started instead of starting another."),
        error_messages={"invalid": _("Use 1 to 48 letters, digits or . _ : - characters.")})


@extend_schema_view(get=extend_schema(summary=_("List campaigns")))
class CampaignList(CountRefusalsMixin, generics.ListAPIView):
    serializer_class = CampaignSerializer
    required_permissions = {"GET": "campaigns.view_campaign"}
    queryset = Campaign.objects.select_related("template")


@extend_schema_view(get=extend_schema(summary=_("Read a campaign")))
class CampaignDetail(CountRefusalsMixin, generics.RetrieveAPIView):
    serializer_class = CampaignSerializer
    required_permissions = {"GET": "campaigns.view_campaign"}
    queryset = Campaign.objects.select_related("template")


class CampaignRunListStart(CountRefusalsMixin, generics.ListCreateAPIView):
    serializer_class = CampaignRunSerializer
    required_permissions = {"GET": "campaigns.view_campaign", "POST": "campaigns.change_campaign"}

    def get_queryset(self) -> QuerySet:
        campaign = get_object_or_404(Campaign, pk=self.kwargs["pk"])
        return CampaignRun.objects.filter(campaign=campaign)

    @extend_schema(summary=_("List a campaign's runs"))
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary=_("Start a run of the campaign (managers)"),
        request=CampaignRunStartSerializer,
        responses={201: CampaignRunSerializer,
                   200: OpenApiResponse(CampaignRunSerializer,
                                        description=_("Started before with this key."))},
    )
    def post(self, request: Request, pk: int) -> Response:
        campaign = get_object_or_404(Campaign, pk=pk)
        start = CampaignRunStartSerializer(data=request.data)
        start.is_valid(raise_exception=True)
        key = start.validated_data.get("key")
        run_key = f"api:{key}" if key else None
        run = campaign_run_start(campaign=campaign, key=run_key, started_by=request.user)
        if run is None:  # this key ran already: answer with that run, start nothing
            run = CampaignRun.objects.get(campaign=campaign, key=run_key)
            return Response(CampaignRunSerializer(run).data, status=status.HTTP_200_OK)
        return Response(CampaignRunSerializer(run).data, status=status.HTTP_201_CREATED)
