"""Campaigns over the API (scope family `campaigns`; viewers read, members write).

- `senders/` (campaigns.api.senders): from-identities with their own SMTP server or the
  install's; a sender that a campaign uses cannot be deleted (409).
- `campaigns/` (campaigns.api.campaigns): CRUD with the window and nested steps, enroll,
  launch, pause, resume, cancel, and `stats/` (campaigns.api.stats).
- `campaigns/{campaign_id}/messages/` (campaigns.api.messages): the message log.
- `suppressions/` (campaigns.api.suppressions): the organization's do-not-mail list.
"""

from campaigns.api.campaigns import CampaignViewSet
from campaigns.api.messages import CampaignMessageViewSet
from campaigns.api.senders import SenderViewSet
from campaigns.api.suppressions import SuppressionViewSet

__all__ = ["CampaignMessageViewSet", "CampaignViewSet", "SenderViewSet", "SuppressionViewSet"]
