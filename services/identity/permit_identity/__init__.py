"""The identity service: channel sign-in, legacy linking, licence onboarding, officers, tokens."""
