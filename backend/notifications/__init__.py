"""Notifications: an urgent flag reaches its therapist by mail, and digests go out on time.

Every message is first a row in the outbox, written in the transaction that caused it;
``sender`` delivers it with retries, so a mail server that is down delays a message and
never loses it. A message names no more than a pseudonymous code and a link.
"""
