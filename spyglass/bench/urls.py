from django.http import HttpResponse
from django.urls import path

from spyglass.urls import handler400, handler404, handler500  # noqa: F401
from spyglass.urls import urlpatterns as product_urls


def minimal(request):
    """The cheapest Django view: the baseline a share page's throughput is compared with."""
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("__bench__/minimal", minimal), *product_urls]
