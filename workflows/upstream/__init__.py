"""The upstream systems' event contracts that more than one flow plug-in subscribes to.

An event type several plug-ins route (a ``license.issued`` starts dual-notification notices and a grid
information check) has one ``data`` model, declared here, so that the plug-ins stay independent of
each other; the registry refuses two plug-ins that declare one event type with different models.
"""
