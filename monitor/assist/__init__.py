"""Assisted sessions on RDV Préfecture (docs/contract.md#assisted-sessions): a person answers
the captcha the monitor's browser shows, in the operator console; the monitor then reads the
slot page of that session at a person's pace. It never answers, retries or books by itself.
"""
