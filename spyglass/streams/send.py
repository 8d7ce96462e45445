"""One export to a receiver, over OTLP/HTTP (protobuf POST to exactly the stream's URL) or OTLP/gRPC
(MetricsService/Export). Redirects are never followed; what comes back is reduced to a status and a short reason
(never the receiver's body, which could be anything)."""

import ssl
from http import HTTPStatus

import grpc
import httpx
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2_grpc

from .endpoint import Target

PROTOBUF = "application/x-protobuf"
# HTTP/2 pseudo-headers and what gRPC sets itself may not be sent as metadata.
_GRPC_RESERVED = {"content-type", "te", "user-agent", "grpc-timeout", "grpc-encoding", "grpc-accept-encoding"}


class Failed(Exception):
    """Not accepted; str() is the short reason shown in the stream's status."""


def _phrase(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return ""


def export_http(target: Target, headers: dict[str, str], request, timeout: float) -> None:
    body = request.SerializeToString()
    sent = {"Content-Type": PROTOBUF, **headers}
    try:
        # The system's certificate authorities (an internal CA added with update-ca-certificates is trusted); no
        # proxy from the environment (trust_env=False): the address checked is the address connected to.
        verify = ssl.create_default_context()
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False, verify=verify) as client:
            response = client.post(target.url, content=body, headers=sent)
    except httpx.TimeoutException:
        raise Failed(f"timed out after {timeout:g} s") from None
    except httpx.ConnectError:
        raise Failed("could not connect") from None
    except httpx.HTTPError as exc:
        raise Failed(f"connection failed ({type(exc).__name__})") from None
    code = response.status_code
    if 200 <= code < 300:
        return
    reason = f"HTTP {code} {_phrase(code)}".strip()
    if 300 <= code < 400:
        reason += " (redirects are not followed)"
    raise Failed(reason)


def export_grpc(target: Target, headers: dict[str, str], request, timeout: float) -> None:
    metadata = [(k.lower(), v) for k, v in headers.items() if k.lower() not in _GRPC_RESERVED]
    if target.scheme == "https":
        channel = grpc.secure_channel(target.authority, grpc.ssl_channel_credentials())
    else:
        channel = grpc.insecure_channel(target.authority)
    try:
        stub = metrics_service_pb2_grpc.MetricsServiceStub(channel)
        stub.Export(request, timeout=timeout, metadata=metadata)
    except grpc.RpcError as exc:
        code = exc.code() if hasattr(exc, "code") else None
        name = code.name if code is not None else "UNKNOWN"
        if code == grpc.StatusCode.DEADLINE_EXCEEDED:
            raise Failed(f"gRPC DEADLINE_EXCEEDED: timed out after {timeout:g} s") from None
        raise Failed(f"gRPC {name}") from None
    finally:
        channel.close()


def export(endpoint_type: str, target: Target, headers: dict[str, str], request, timeout: float) -> None:
    (export_grpc if endpoint_type == "grpc" else export_http)(target, headers, request, timeout)
