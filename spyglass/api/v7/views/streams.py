"""v7 streams as the SDK's StreamingApi (thousandeyes-sdk-streaming) calls them: list, create, get, update, delete.
The rules live in spyglass.streams.services; delivery in spyglass.streams.push (docs/streams.md)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from spyglass.streams import push, services
from spyglass.streams.models import Stream
from spyglass.streams.secrets import masked

from ..base import V7View
from ..conventions import href

TAG = ["Streaming"]


def _ms(value) -> int | None:
    return int(value.timestamp() * 1000) if value else None


def stream_body(stream: Stream, created: bool = False) -> dict:
    """GetStreamResponse (CreateStreamResponse when `created`): the stream, its headers masked, and its status."""
    audit = {"createdBy": stream.created_by_id, "createdDate": _ms(stream.created_date)}
    if not created:
        audit.update(updatedBy=stream.updated_by_id, updatedDate=_ms(stream.updated_date))
    out = {
        "id": str(stream.id),
        "name": stream.name,
        "enabled": stream.enabled,
        "type": stream.type,
        "signal": stream.signal,
        "endpointType": stream.endpoint_type,
        "streamEndpointUrl": stream.url,
        "dataModelVersion": stream.data_model_version,
        "customHeaders": masked(stream.custom_headers),
        "testMatch": [{k: v for k, v in item.items() if v is not None} for item in stream.test_match],
        "tagMatch": [],
        "filters": {"testTypes": {"values": list(stream.test_types)}},
        "auditOperation": {k: v for k, v in audit.items() if v is not None},
        "streamStatus": {
            k: v
            for k, v in {
                "status": stream.status,
                "lastSuccess": _ms(stream.last_success),
                "lastFailure": _ms(stream.last_failure),
                # spyglass's own: the short reason of the last failure and the rounds waiting to go out
                "lastError": stream.last_error or None,
                "backlog": push.backlog(stream),
            }.items()
            if v is not None
        },
        "_links": {"self": href(f"streams/{stream.id}")},
    }
    return out


class StreamView(V7View):
    # Streams send an account group's data out: managed by Account Admins (and Organization Admins), the roles with
    # the account group's administration permission.
    required_permissions = dict.fromkeys(("GET", "POST", "PUT", "DELETE"), services.MANAGE_STREAMS)

    def type_filter(self):
        wanted = self.request.query_params.get("type")
        if wanted is not None and wanted not in services.STREAM_TYPES:
            raise ValidationError({"type": f"must be one of {', '.join(services.STREAM_TYPES)}"})
        return wanted


class StreamListView(StreamView):
    @extend_schema(responses=OpenApiTypes.OBJECT, summary="Streams of the account group", tags=TAG)
    def get(self, request):
        wanted = self.type_filter()
        found = services.streams(self.access).order_by("created_date", "id")
        if wanted:
            found = found.filter(type=wanted)
        return Response([stream_body(s) for s in found])

    @extend_schema(
        request=OpenApiTypes.OBJECT, responses={201: OpenApiTypes.OBJECT}, summary="Create a stream", tags=TAG
    )
    def post(self, request):
        stream = services.create_stream(self.access, request.data)
        return Response(stream_body(stream, created=True), status=status.HTTP_201_CREATED)


class StreamDetailView(StreamView):
    def stream(self, stream_id: str) -> Stream:
        stream = services.get_stream(self.access, stream_id)
        if stream is None:
            raise NotFound("Not found")
        return stream

    @extend_schema(responses=OpenApiTypes.OBJECT, summary="A stream", tags=TAG)
    def get(self, request, stream_id):
        wanted = self.type_filter()
        stream = self.stream(stream_id)
        if wanted and stream.type != wanted:
            raise NotFound("Not found")
        return Response(stream_body(stream))

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT, summary="Update a stream", tags=TAG)
    def put(self, request, stream_id):
        stream = services.update_stream(self.access, self.stream(stream_id), request.data)
        return Response(stream_body(stream))

    @extend_schema(request=None, responses={204: None}, summary="Delete a stream", tags=TAG)
    def delete(self, request, stream_id):
        services.delete_stream(self.stream(stream_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
