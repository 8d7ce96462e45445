from django.urls import include, path

urlpatterns = [
    path("", include("spyglass.api.urls")),
    path("", include("spyglass.api.v7.urls")),
    path("", include("spyglass.sharing.urls")),
    path("", include("spyglass.api.agent.urls")),
    path("", include("spyglass.scrape.urls")),
    path("", include("spyglass.web.urls")),
]

handler400 = "spyglass.api.errors.handler400"
handler404 = "spyglass.api.errors.handler404"
handler500 = "spyglass.api.errors.handler500"
