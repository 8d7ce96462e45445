"""A separate share domain: with SPYGLASS_SHARE_URL_TEMPLATE="https://{linkId}.share.example.com/", a request for
https://<id>.share.example.com/<rest> is served as /s/<id>/<rest>. (Add .share.example.com to
SPYGLASS_ALLOWED_HOSTS.)"""

from .links import share_host_pattern


class ShareHostMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.pattern = share_host_pattern()

    def __call__(self, request):
        if self.pattern is not None:
            m = self.pattern.fullmatch(request.META.get("HTTP_HOST", ""))
            if m and not request.path_info.startswith(("/static/", "/s/")):
                request.path_info = f"/s/{m.group(1).lower()}{request.path_info}"
        return self.get_response(request)
