"""Content-Security-Policy on every web page: scripts and styles only from our own origin, nothing inline."""

POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# The API's browsable docs (drf-spectacular's Redoc page) bring their own inline bootstrap script.
EXEMPT_PREFIXES = ("/v6/docs",)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return add_policy(request, self.get_response(request))


def add_policy(request, response):
    if "Content-Security-Policy" not in response and not request.path.startswith(EXEMPT_PREFIXES):
        response["Content-Security-Policy"] = POLICY
    return response
