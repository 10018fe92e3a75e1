"""Cursor pages ordered by id: each page is an index range scan, as fast at row 1M as at row 1."""
from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
