"""v6 formats: JSON and XML, chosen by path suffix, then Accept, then format= (the documented precedence)."""

import orjson
from rest_framework.exceptions import NotAcceptable, ParseError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer
from rest_framework_xml.parsers import XMLParser
from rest_framework_xml.renderers import XMLRenderer

from spyglass.lib import jsonsplice

JSON_TYPES = ("application/json",)
XML_TYPES = ("text/xml", "application/xml")


class V6JSONRenderer(BaseRenderer):
    media_type = "application/json"
    format = "json"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return jsonsplice.dumps(data, default=str)


class V6XMLRenderer(XMLRenderer):
    """Lists render as repeated elements named after their key: {"test": [a, b]} → <test>a</test><test>b</test>."""

    media_type = "text/xml"
    format = "xml"
    root_tag_name = "data"

    def _to_xml(self, xml, data):
        if isinstance(data, dict):
            for key, value in data.items():
                if isinstance(value, list | tuple):
                    for item in value:
                        xml.startElement(key, {})
                        self._to_xml(xml, item)
                        xml.endElement(key)
                else:
                    xml.startElement(key, {})
                    self._to_xml(xml, value)
                    xml.endElement(key)
        elif isinstance(data, list | tuple):
            for item in data:
                xml.startElement("item", {})
                self._to_xml(xml, item)
                xml.endElement("item")
        elif data is None:
            pass
        else:
            xml.characters(str(data))


class V6JSONParser(BaseParser):
    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream else b""
        if not raw.strip():
            return {}
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ParseError(f"The request body is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ParseError("The request body must be a JSON object")
        return data


class V6XMLParser(XMLParser):
    """XML bodies: repeated child elements become lists; the root element's children become the object."""

    media_type = "text/xml"

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except ParseError as exc:
            raise ParseError(f"The request body is not valid XML: {exc.detail}") from None
        if not isinstance(data, dict):
            raise ParseError("The request body must be an XML element with child elements")
        return data

    def _xml_convert(self, element):
        children = list(element)
        if not children:
            return self._type_convert(element.text)
        tags = [child.tag for child in children]
        if tags[0] == "list-item" or (len(tags) > 1 and len(set(tags)) == 1):
            return [self._xml_convert(child) for child in children]
        out = {}
        for child in children:
            out[child.tag] = self._xml_convert(child)
        return out

    def _type_convert(self, value):
        # Keep strings: the serializers coerce and validate, and say which field was wrong.
        return "" if value is None else value.strip()


class V6XMLApplicationParser(V6XMLParser):
    media_type = "application/xml"


def _from_accept(header: str) -> str | None:
    header = (header or "").lower()
    for part in header.split(","):
        media = part.split(";")[0].strip()
        if media in JSON_TYPES:
            return "json"
        if media in XML_TYPES:
            return "xml"
    return None


class V6ContentNegotiation(BaseContentNegotiation):
    def select_parser(self, request, parsers):
        content_type = (request.content_type or "").split(";")[0].strip().lower()
        for parser in parsers:
            if parser.media_type == content_type:
                return parser
        # Clients often send JSON without a content type (curl -d); treat it as JSON.
        if content_type in ("", "application/x-www-form-urlencoded", "text/plain"):
            return next((p for p in parsers if p.media_type == "application/json"), None)
        return None

    def select_renderer(self, request, renderers, format_suffix=None):
        accept = request.META.get("HTTP_ACCEPT", "")
        fmt = format_suffix or _from_accept(accept)
        if not fmt:
            fmt = (request.query_params.get("format") or "").lower()
            if not fmt and accept.strip() and not _accepts_anything(accept):
                raise NotAcceptable("Accept must allow application/json, text/xml or application/xml")
            fmt = fmt or "json"
        for renderer in renderers:
            if renderer.format == fmt:
                return renderer, renderer.media_type
        if format_suffix is None and request.query_params.get("format") and fmt not in ("json", "xml"):
            raise NotAcceptable("format must be json or xml")
        return renderers[0], renderers[0].media_type


def _accepts_anything(header: str) -> bool:
    """Whether the Accept header takes any type (*/*, application/*, text/*): JSON or XML will do."""
    wanted = {part.split(";")[0].strip().lower() for part in header.split(",")}
    return bool(wanted & {"*/*", "*", "application/*", "text/*"})
