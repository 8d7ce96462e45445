"""v6 test endpoints: list, list by type, detail, create, update, delete."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from spyglass.accounts.roles import EDIT_TESTS, VIEW_TESTS
from spyglass.monitoring import tests_service
from spyglass.monitoring.models import Test
from spyglass.monitoring.test_validation import TestWriteSerializer

from .. import representations as rep
from .. import stored_lists
from ..base import V6View

TEST_TYPES = [t for t, _ in Test.TYPES]
TYPE_PARAM = OpenApiParameter("test_type", str, OpenApiParameter.PATH, enum=TEST_TYPES)


def check_type(test_type: str) -> str:
    if test_type not in TEST_TYPES:
        raise ValidationError({"type": f"unknown test type '{test_type[:40]}'; use one of {', '.join(TEST_TYPES)}"})
    return test_type


class TestBaseView(V6View):
    def tests(self):
        return tests_service.visible_tests(self.access).select_related("created_by", "modified_by")

    def listed_tests(self):
        """What the lists show: saved events among the tests, share links not (each is also reachable by id)."""
        return tests_service.listed_queryset(self.access).select_related("created_by", "modified_by")

    def get_test(self, test_id, test_type=None) -> Test:
        test = get_object_or_404(self.tests(), id=self.int_id(test_id))
        if test_type is not None and test.type != test_type:
            raise Http404
        return test

    def writable_test(self, test_id, test_type) -> Test:
        test = self.get_test(test_id, test_type)
        tests_service.check_owner(self.access, test)
        if test.saved_event:
            raise ValidationError("Saved events and snapshots cannot be updated or deleted through this endpoint")
        return test


class TestListView(TestBaseView):
    required_permissions = {"GET": VIEW_TESTS}

    @extend_schema(responses=OpenApiTypes.OBJECT, summary="Tests of the account group", operation_id="tests_list")
    def get(self, request, test_type=None, format=None):
        test_type = None if test_type is None else check_type(test_type)

        def build():
            return {"test": [rep.test_summary(t) for t in tests_service.listed_tests(self.access, test_type)]}

        return stored_lists.test_list(self, request, test_type, build)  # stored rendered, read while fresh


class TestListByTypeView(TestListView):
    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        summary="Tests of one type",
        operation_id="tests_list_by_type",
        parameters=[TYPE_PARAM],
    )
    def get(self, request, test_type=None, format=None):
        return super().get(request, test_type, format)


class TestDetailView(TestBaseView):
    required_permissions = {"GET": VIEW_TESTS}

    @extend_schema(responses=OpenApiTypes.OBJECT, summary="Test detail")
    def get(self, request, test_id, format=None):
        return Response({"test": [rep.test_detail(self.get_test(test_id))]})


class TestCreateView(TestBaseView):
    required_permissions = {"POST": EDIT_TESTS}

    @extend_schema(
        request=TestWriteSerializer,
        responses={201: OpenApiTypes.OBJECT},
        summary="Create a test",
        parameters=[TYPE_PARAM],
    )
    def post(self, request, test_type, format=None):
        check_type(test_type)
        serializer = TestWriteSerializer(data=request.data, test_type=test_type)
        serializer.is_valid(raise_exception=True)
        test = tests_service.create_test(self.access, test_type, serializer.validated_data)
        return Response({"test": [rep.test_detail(test)]}, status=status.HTTP_201_CREATED)


class TestUpdateView(TestBaseView):
    required_permissions = {"POST": EDIT_TESTS}

    @extend_schema(
        request=TestWriteSerializer, responses=OpenApiTypes.OBJECT, summary="Update a test", parameters=[TYPE_PARAM]
    )
    def post(self, request, test_type, test_id, format=None):
        check_type(test_type)
        test = self.writable_test(test_id, test_type)
        serializer = TestWriteSerializer(data=request.data, test_type=test_type, instance_test=test)
        serializer.is_valid(raise_exception=True)
        test = tests_service.update_test(self.access, test, serializer.validated_data)
        return Response({"test": [rep.test_detail(test)]})


class TestDeleteView(TestBaseView):
    required_permissions = {"POST": EDIT_TESTS}

    @extend_schema(request=None, responses={204: None}, summary="Delete a test", parameters=[TYPE_PARAM])
    def post(self, request, test_type, test_id, format=None):
        check_type(test_type)
        tests_service.delete_test(self.writable_test(test_id, test_type))
        return Response(status=status.HTTP_204_NO_CONTENT)
