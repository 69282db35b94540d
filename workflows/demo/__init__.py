"""The demo (``yunshang demo``): a synthetic district replayed on the embedded stack with the simulated
clock, composed of the flow plug-ins' demo parts (``FlowPlugin.demo``).

``parts`` says what a part is (``DemoPart``) and what it sees (``DemoContext``); ``runner`` is the
hour-by-hour loop that drives them together. The engine names no flow here: which parts run is which
plug-ins the composition root lists.
"""
