"""A campaign's numbers (`GET campaigns/{id}/stats/`), counted by the database."""

from __future__ import annotations

from rest_framework import serializers

from campaigns.stats import campaign_stats

__all__ = ["CampaignStatsSerializer", "campaign_stats"]


class RatesSerializer(serializers.Serializer):
    delivered = serializers.FloatField(allow_null=True)
    opened = serializers.FloatField(allow_null=True)
    clicked = serializers.FloatField(allow_null=True)
    replied = serializers.FloatField(allow_null=True)
    bounced = serializers.FloatField(allow_null=True)
    unsubscribed = serializers.FloatField(allow_null=True)


class CountsSerializer(serializers.Serializer):
    enrolled = serializers.IntegerField()
    sent = serializers.IntegerField()
    delivered = serializers.IntegerField()
    opened = serializers.IntegerField()
    clicked = serializers.IntegerField()
    replied = serializers.IntegerField()
    bounced = serializers.IntegerField()
    unsubscribed = serializers.IntegerField()
    rates = RatesSerializer(help_text="Shares of `sent`, 0..1 (null while nothing was sent).")


class VariantStatsSerializer(CountsSerializer):
    key = serializers.CharField(help_text="A is the step's own subject and body.")


class StepStatsSerializer(CountsSerializer):
    id = serializers.IntegerField()
    order = serializers.IntegerField()
    subject = serializers.CharField()
    variants = VariantStatsSerializer(many=True)


class DayStatsSerializer(serializers.Serializer):
    date = serializers.DateField()
    sent = serializers.IntegerField()
    opened = serializers.IntegerField()
    clicked = serializers.IntegerField()
    replied = serializers.IntegerField()


class CampaignStatsSerializer(serializers.Serializer):
    campaign = serializers.IntegerField()
    totals = CountsSerializer()
    steps = StepStatsSerializer(many=True)
    by_day = DayStatsSerializer(many=True)
