"""Small serializers shared by the accounts API resources."""

from __future__ import annotations

from rest_framework import serializers

from accounts.models import Organization, User


class OrganizationBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name", "slug"]
        read_only_fields = fields


class UserBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "name"]
        read_only_fields = fields
