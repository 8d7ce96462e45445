"""Exports to a receiver, over OTLP/HTTP (protobuf POST to exactly the stream's URL) or OTLP/gRPC
(MetricsService/Export), one connection per stream's pass. Redirects are never followed; what comes back is reduced
to a status and a short reason (never the receiver's body, which could be anything)."""

import functools
import os
import ssl
from http import HTTPStatus

import grpc
import httpx
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceResponse

from .endpoint import Target

PROTOBUF = "application/x-protobuf"
# MetricsService/Export, called with the request already serialized (as the generated stub would send it).
_EXPORT = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export"
# HTTP/2 pseudo-headers and what gRPC sets itself may not be sent as metadata.
_GRPC_RESERVED = {"content-type", "te", "user-agent", "grpc-timeout", "grpc-encoding", "grpc-accept-encoding"}


class Failed(Exception):
    """Not accepted; str() is the short reason shown in the stream's status."""


def _phrase(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return ""


@functools.lru_cache(maxsize=4)
def _tls(cafile: str | None, capath: str | None) -> ssl.SSLContext:
    """The system's certificate authorities (an internal CA added with update-ca-certificates is trusted; so is
    SSL_CERT_FILE's): made once, as loading them takes tens of milliseconds."""
    return ssl.create_default_context()


@functools.lru_cache(maxsize=4)
def _grpc_roots(cafile: str | None, capath: str | None) -> bytes | None:
    """The same certificate authorities for gRPC (which otherwise trusts a bundle of its own): the system's file,
    or SSL_CERT_FILE's."""
    path = ssl.get_default_verify_paths().cafile
    if not path:
        return None
    with open(path, "rb") as fh:
        return fh.read()


def _certificate_refused(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class Exporter:
    """Exports to one target; close() when done. `export` raises Failed when the receiver did not accept."""

    def __init__(self, endpoint_type: str, target: Target, headers: dict[str, str], timeout: float):
        self.endpoint_type, self.target, self.headers, self.timeout = endpoint_type, target, headers, timeout
        self._client: httpx.Client | None = None
        self._channel: grpc.Channel | None = None

    def export(self, request: bytes) -> None:
        """Sends a serialized ExportMetricsServiceRequest."""
        (self._grpc if self.endpoint_type == "grpc" else self._http)(request)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self._channel is not None:
            self._channel.close()

    def _http(self, request: bytes) -> None:
        target = self.target
        if self._client is None:
            # No proxy from the environment (trust_env=False): the address checked is the address connected to.
            verify = _tls(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
            self._client = httpx.Client(timeout=self.timeout, follow_redirects=False, trust_env=False, verify=verify)
        # To the address that was checked, naming the host in Host and in TLS (server name and certificate).
        sent = {**self.headers, "Host": target.host_header}
        if not any(name.lower() == "content-type" for name in sent):  # the stream's own Content-Type, when it sets one
            sent["Content-Type"] = PROTOBUF
        try:
            response = self._client.post(
                target.pinned_url,
                content=request,
                headers=sent,
                extensions={"sni_hostname": target.host},
            )
        except httpx.TimeoutException:
            raise Failed(f"timed out after {self.timeout:g} s") from None
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

    def _grpc(self, request: bytes) -> None:
        target = self.target
        if self._channel is None:
            # To the address that was checked; the host named as the authority and in TLS.
            kind = "ipv6" if ":" in target.address else "ipv4"
            address = f"{kind}:{target.pinned_authority}"
            options = [("grpc.default_authority", target.authority)]
            if target.scheme == "https":
                options.append(("grpc.ssl_target_name_override", target.host))
                roots = _grpc_roots(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
                credentials = grpc.ssl_channel_credentials(root_certificates=roots)
                self._channel = grpc.secure_channel(address, credentials, options=options)
            else:
                self._channel = grpc.insecure_channel(address, options=options)
        metadata = [(k.lower(), v) for k, v in self.headers.items() if k.lower() not in _GRPC_RESERVED]
        try:
            self._channel.unary_unary(
                _EXPORT, request_serializer=None, response_deserializer=ExportMetricsServiceResponse.FromString
            )(request, timeout=self.timeout, metadata=metadata)
        except grpc.RpcError as exc:
            code = exc.code() if hasattr(exc, "code") else None
            if code == grpc.StatusCode.DEADLINE_EXCEEDED:
                raise Failed(f"gRPC DEADLINE_EXCEEDED: timed out after {self.timeout:g} s") from None
            raise Failed(f"gRPC {code.name if code is not None else 'UNKNOWN'}") from None
