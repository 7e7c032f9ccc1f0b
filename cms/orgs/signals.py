"""Signals of the organisation tree.

``unit_created(sender=Organisation, unit=unit)`` is sent once a unit, its subtree, collection and
groups exist (inside the creating transaction), so other apps (the approval workflows) can add
their own per-unit parts without this app importing them.
"""

from django.dispatch import Signal

unit_created = Signal()
