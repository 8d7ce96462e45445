"""Refuse oversized bodies before anything reads them."""

from django.conf import settings
from django.http import JsonResponse


class BodySizeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        length = request.META.get("CONTENT_LENGTH") or "0"
        try:
            too_big = int(length) > settings.MAX_REQUEST_BODY
        except ValueError:
            return JsonResponse({"errorMessage": "Content-Length is not a number"}, status=400)
        if too_big:
            return JsonResponse({"errorMessage": "The request body is larger than 1 MiB"}, status=413)
        return self.get_response(request)
