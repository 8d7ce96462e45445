"""Counts every answer by its status, for `spyglass_http_requests_total` (the outermost middleware, so that it sees
the answers other middleware give, such as 413 for an oversized body)."""

from .counters import count_request


class RequestCountMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        count_request(response.status_code)
        return response
