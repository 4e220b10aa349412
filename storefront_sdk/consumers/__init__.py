"""Consumers: one platform-wide identity per verified phone number or email address.

- :mod:`.models`: the consumer and what belongs to them.

A consumer signs in with a one-time code sent through the message sender
(``docs/consumers.md``); guests may still buy, and their orders join the identity when they
sign in with the same contact.
"""
