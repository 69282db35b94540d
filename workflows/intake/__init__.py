"""The front door: CloudEvents validated, stored in the inbox and routed to the flow plug-ins' routes, with
source and operator tokens.
"""
