"""A separate share domain: with SPYGLASS_SHARE_URL_TEMPLATE="https://{linkId}.share.example.com/", a request for
https://<id>.share.example.com/<rest> is served as /s/<id>/<rest>, and a dashboard snapshot's
https://<id>.share.example.com/d/<rest> as /s/d/<id>/<rest> (links.view_url). (Add .share.example.com to
SPYGLASS_ALLOWED_HOSTS.)"""

from .links import DASHBOARD_PREFIX, share_host_pattern

_DASHBOARD_PATH = "/" + DASHBOARD_PREFIX


class ShareHostMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.pattern = share_host_pattern()

    def __call__(self, request):
        if self.pattern is not None:
            m = self.pattern.fullmatch(request.META.get("HTTP_HOST", ""))
            if m and not request.path_info.startswith(("/static/", "/s/")):
                path, link_id = request.path_info, m.group(1).lower()
                if path.startswith(_DASHBOARD_PATH):
                    request.path_info = f"/s/{DASHBOARD_PREFIX}{link_id}/{path[len(_DASHBOARD_PATH) :]}"
                else:
                    request.path_info = f"/s/{link_id}{path}"
        return self.get_response(request)
