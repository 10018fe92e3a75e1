"""What customers told us, read-only through the API: survey answers and support cases."""
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, serializers

from feedback.models import SurveyResponse
from support.models import Case

from .fields import IdFilterField, StrictIntegerField
from .throttling import CountRefusalsMixin


class SurveyResponseSerializer(serializers.ModelSerializer):
    class Meta:
        model = SurveyResponse
        fields = ["id", "contact", "purchase", "score", "comment", "language", "created_at",
                  "updated_at"]
        read_only_fields = fields


class CaseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Case
        # verified false: sent from the public form with this contact's address and not yet
        # confirmed by its owner, so the subject and description may not be the contact's.
        fields = ["id", "contact", "subject", "description", "channel", "priority", "status",
                  "owner", "created_at", "first_response_at", "solved_at",
                  "first_response_due", "resolution_due", "updated_at", "verified"]
        read_only_fields = fields


class SurveyFilterSerializer(serializers.Serializer):
    contact = IdFilterField(required=False)
    min_score = StrictIntegerField(min_value=0, max_value=10, required=False)
    max_score = StrictIntegerField(min_value=0, max_value=10, required=False)


class CaseFilterSerializer(serializers.Serializer):
    contact = IdFilterField(required=False)
    status = serializers.ChoiceField(choices=Case.Status.choices, required=False)
    # allow_null: a missing parameter is "either", not the False that DRF reads from forms.
    open = serializers.BooleanField(
        allow_null=True, default=None,
        help_text=_("true: only cases not solved yet; false: only solved ones."))


def _filters(serializer_class, request) -> dict:
    filters = serializer_class(data=request.query_params)
    filters.is_valid(raise_exception=True)
    return filters.validated_data


@extend_schema_view(get=extend_schema(parameters=[SurveyFilterSerializer],
                                      summary=_("List survey answers (NPS)")))
class SurveyResponseList(CountRefusalsMixin, generics.ListAPIView):
    serializer_class = SurveyResponseSerializer
    required_permissions = {"GET": "feedback.view_surveyresponse"}

    def get_queryset(self) -> QuerySet:
        filters = _filters(SurveyFilterSerializer, self.request)
        answers = SurveyResponse.objects.all()
        if "contact" in filters:
            answers = answers.filter(contact_id=filters["contact"])
        if "min_score" in filters:
            answers = answers.filter(score__gte=filters["min_score"])
        if "max_score" in filters:
            answers = answers.filter(score__lte=filters["max_score"])
        return answers


@extend_schema_view(get=extend_schema(parameters=[CaseFilterSerializer],
                                      summary=_("List support cases")))
class CaseList(CountRefusalsMixin, generics.ListAPIView):
    serializer_class = CaseSerializer
    required_permissions = {"GET": "support.view_case"}

    def get_queryset(self) -> QuerySet:
        filters = _filters(CaseFilterSerializer, self.request)
        cases = Case.objects.all()
        if "contact" in filters:
            cases = cases.filter(contact_id=filters["contact"])
        if "status" in filters:
            cases = cases.filter(status=filters["status"])
        if filters.get("open") is True:
            cases = cases.exclude(status=Case.Status.SOLVED)
        elif filters.get("open") is False:
            cases = cases.filter(status=Case.Status.SOLVED)
        return cases


@extend_schema_view(get=extend_schema(summary=_("Read a support case")))
class CaseDetail(CountRefusalsMixin, generics.RetrieveAPIView):
    serializer_class = CaseSerializer
    required_permissions = {"GET": "support.view_case"}
    queryset = Case.objects.all()
