"""Signals of the inventory for the apps above it.

``device_page_panels`` is sent while a device's page is built (``request``, ``device``,
``can_write``); a receiver returns a piece of HTML to show under the device's facts, or
None. An app above equity (the Google sync) shows what it knows and offers its actions
there without equity importing it."""

from django.dispatch import Signal

device_page_panels = Signal()
