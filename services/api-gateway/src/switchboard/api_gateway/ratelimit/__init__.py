"""Per-user rate limits shared by every gateway replica: tiers, the NATS-counter limiter and its token feed."""
