"""JSON bodies with a size limit.

DRF reads the request stream itself, past Django's DATA_UPLOAD_MAX_MEMORY_SIZE check, so an
integration could otherwise post megabytes that are parsed in full before any validation.
"""
from io import BytesIO

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class LimitedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.CRM_API_MAX_BODY_BYTES
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise ParseError(_("The request body is larger than %(limit)d bytes.")
                             % {"limit": limit})
        return super().parse(BytesIO(body), media_type, parser_context)
