"""V7View: the v7 front door on the one tenancy checkpoint. It is V6View (authentication, `aid`, the organization's
rate limit, Regular Users refused writes, the action's permission, 404 for other tenants' objects) with v7's
formats and problem-details errors."""

from rest_framework.exceptions import NotFound

from spyglass.lib.text import is_digits

from ..base import V6View
from . import conventions
from .schema import V7AutoSchema


class V7View(V6View):
    renderer_classes = [conventions.HalJSONRenderer, conventions.PlainJSONRenderer]
    parser_classes = [conventions.V7JSONParser]
    content_negotiation_class = conventions.V7ContentNegotiation
    account_groups_path = "/v7/account-groups"
    schema = V7AutoSchema()

    def get_exception_handler(self):
        return conventions.exception_handler

    @staticmethod
    def str_id(value, name: str = "id") -> int:
        """v7 ids are strings of digits; anything else names nothing here (404, as for an unknown id)."""
        if not isinstance(value, str) or not is_digits(value) or len(value) > 18:
            raise NotFound("Not found")
        return V6View.int_id(value, name)
