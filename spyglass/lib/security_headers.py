"""Headers every response gets: a Content-Security-Policy (scripts and styles only from our own origin, nothing
inline) and, when spyglass is served over HTTPS, Strict-Transport-Security."""

from django.conf import settings

_DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
POLICY = "; ".join(f"{name} {value}" for name, value in _DIRECTIVES.items())
# The API references of both versions (Redoc from drf-spectacular-sidecar, spyglass/api/templates/api/docs.html) inserts its styles
# at run time (it renders nothing without them) and searches in a blob: worker. Scripts stay 'self' only; the page
# shows nothing user-written.
DOCS_PREFIXES = ("/v6/docs", "/v7/docs")
DOCS_POLICY = "; ".join(
    f"{name} {value}"
    for name, value in {
        **_DIRECTIVES,
        "style-src": "'self' 'unsafe-inline'",
        "worker-src": "'self' blob:",
    }.items()
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return add_policy(request, self.get_response(request))


def add_policy(request, response):
    if "Content-Security-Policy" not in response:
        response["Content-Security-Policy"] = DOCS_POLICY if request.path.startswith(DOCS_PREFIXES) else POLICY
    # Sent whatever the scheme of the request: behind a proxy that ends TLS, spyglass sees plain HTTP (and Django's
    # SecurityMiddleware would send nothing), while browsers ignore the header on a response that came over HTTP.
    if settings.SECURE_HSTS_SECONDS and "Strict-Transport-Security" not in response:
        response["Strict-Transport-Security"] = f"max-age={settings.SECURE_HSTS_SECONDS}"
    return response
