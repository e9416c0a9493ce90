"""The accounts app's REST API: sign-up and tokens, the caller, API keys, the organization
with its members and invitations, webhooks, the audit log, and staff views. Routed in
config.api_urls."""
