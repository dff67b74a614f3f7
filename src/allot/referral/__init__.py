"""Referral (A4): a personal referral link, attribution at sign-up, rewards as credits."""
