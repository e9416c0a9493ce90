import re

from rest_framework import pagination, serializers

_COUNT = re.compile(r"^[0-9]{1,18}$")


class Pagination(pagination.LimitOffsetPagination):
    """`?limit=&offset=`; answers `{count, next, previous, results}`.

    DRF silently replaces a bad `limit` or `offset` with the default; here `offset=abc` or
    `limit=-1` is a 400 naming the parameter, so a client bug shows instead of wrong pages.
    A limit above `max_limit` is lowered to it, as documented.
    """

    default_limit = 50
    max_limit = 500

    def _count(self, request, name: str, minimum: int) -> int | None:
        raw = request.query_params.get(name)
        if raw is None or raw == "":
            return None
        if not _COUNT.match(raw) or int(raw) < minimum:
            raise serializers.ValidationError(
                {name: [f"Use a whole number of at least {minimum}."]}
            )
        return int(raw)

    def get_limit(self, request):
        limit = self._count(request, self.limit_query_param, 1)
        return self.default_limit if limit is None else min(limit, self.max_limit)

    def get_offset(self, request):
        return self._count(request, self.offset_query_param, 0) or 0

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        minimum = {self.limit_query_param: 1, self.offset_query_param: 0}
        for parameter in parameters:
            if parameter["name"] in minimum:
                parameter["schema"]["minimum"] = minimum[parameter["name"]]
        return parameters
