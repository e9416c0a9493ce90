from rest_framework import pagination


class Pagination(pagination.LimitOffsetPagination):
    """`?limit=&offset=`; answers `{count, next, previous, results}`."""

    default_limit = 50
    max_limit = 500
