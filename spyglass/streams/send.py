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


def _certificate_refused(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def export_http(target: Target, headers: dict[str, str], request, timeout: float) -> None:
    body = request.SerializeToString()
    # To the address that was checked, naming the host in Host and in TLS (server name and certificate).
    sent = {"Content-Type": PROTOBUF, **headers, "Host": target.host_header}
    extensions = {"sni_hostname": target.host}
    try:
        # The system's certificate authorities (an internal CA added with update-ca-certificates is trusted); no
        # proxy from the environment (trust_env=False): the address checked is the address connected to.
        verify = ssl.create_default_context()
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False, verify=verify) as client:
            response = client.post(target.pinned_url, content=body, headers=sent, extensions=extensions)
    except httpx.TimeoutException:
        raise Failed(f"timed out after {timeout:g} s") from None
    except httpx.ConnectError as exc:
        if _certificate_refused(exc):
            raise Failed(f"TLS certificate not valid for {target.host}") from None
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
    # To the address that was checked; the host named as the authority and in TLS.
    address = f"ipv6:{target.pinned_authority}" if ":" in target.address else f"ipv4:{target.pinned_authority}"
    options = [("grpc.default_authority", target.authority)]
    if target.scheme == "https":
        options.append(("grpc.ssl_target_name_override", target.host))
        channel = grpc.secure_channel(address, grpc.ssl_channel_credentials(), options=options)
    else:
        channel = grpc.insecure_channel(address, options=options)
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
