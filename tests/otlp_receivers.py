"""Real OTLP receivers on loopback, built on opentelemetry-proto: an OTLP/HTTP one (http.server in a thread) and an
OTLP/gRPC one (grpcio). Each decodes what arrives and keeps the requests it accepted. `answer` decides each
request's fate: an HTTP status (200 accepts), or "hang" (never answers until the receiver stops)."""

import ssl
import threading
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

HANG = "hang"


@dataclass
class Received:
    headers: dict
    request: ExportMetricsServiceRequest


@dataclass
class _Base:
    answer: Callable[[int], object] = lambda n: 200  # n: the request's number, from 1
    accepted: list = field(default_factory=list)
    refused: int = 0
    calls: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    released: threading.Event = field(default_factory=threading.Event)

    def _decide(self) -> object:
        with self.lock:
            self.calls += 1
            return self.answer(self.calls)

    def _keep(self, headers: dict, request) -> None:
        with self.lock:
            self.accepted.append(Received(headers, request))

    def points(self) -> list[tuple]:
        """Every data point accepted: (resource attributes, metric name, unit, time, value, point attributes)."""
        out = []
        for received in self.accepted:
            for rm in received.request.resource_metrics:
                resource = {kv.key: _plain(kv.value) for kv in rm.resource.attributes}
                for sm in rm.scope_metrics:
                    for metric in sm.metrics:
                        assert metric.WhichOneof("data") == "gauge", metric.name
                        for p in metric.gauge.data_points:
                            attributes = {kv.key: _plain(kv.value) for kv in p.attributes}
                            out.append((resource, metric.name, metric.unit, p.time_unix_nano, p.as_double, attributes))
        return out


def _plain(value):
    return getattr(value, value.WhichOneof("value"))


class HttpReceiver(_Base):
    def start(self, host: str = "127.0.0.1", tls: tuple[str, str] | None = None) -> "HttpReceiver":
        """tls: (certificate file, key file) to answer HTTPS."""
        receiver = self
        self.scheme = "https" if tls else "http"

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                fate = receiver._decide()
                if fate == HANG:
                    receiver.released.wait(30)
                    return
                if fate == 200:
                    assert self.path == "/v1/metrics" and self.headers["Content-Type"] == "application/x-protobuf"
                    receiver._keep(dict(self.headers), ExportMetricsServiceRequest.FromString(body))
                    answer = metrics_service_pb2.ExportMetricsServiceResponse().SerializeToString()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/x-protobuf")
                else:
                    with receiver.lock:
                        receiver.refused += 1
                    answer = b"internal details of the receiver, never to be shown"
                    self.send_response(int(fate))
                    if 300 <= int(fate) < 400:
                        self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{self.scheme}://{host}:{port}/v1/metrics"

    def stop(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


class GrpcReceiver(_Base):
    def start(self, tls: tuple[str, str] | None = None) -> "GrpcReceiver":
        """tls: (certificate file, key file) to answer over TLS."""
        receiver = self
        self.scheme = "https" if tls else "http"

        class Servicer(metrics_service_pb2_grpc.MetricsServiceServicer):
            def Export(self, request, context):
                fate = receiver._decide()
                if fate == HANG:
                    receiver.released.wait(30)
                    context.abort(grpc.StatusCode.UNAVAILABLE, "stopped")
                if fate != 200:
                    with receiver.lock:
                        receiver.refused += 1
                    context.abort(grpc.StatusCode.UNAVAILABLE, "internal details, never to be shown")
                receiver._keep(dict(context.invocation_metadata()), request)
                return metrics_service_pb2.ExportMetricsServiceResponse()

        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(Servicer(), self.server)
        if tls:
            with open(tls[0], "rb") as cert, open(tls[1], "rb") as key:
                credentials = grpc.ssl_server_credentials([(key.read(), cert.read())])
            self.port = self.server.add_secure_port("127.0.0.1:0", credentials)
        else:
            self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()
        return self

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.released.set()
        self.server.stop(grace=None).wait(10)
