"""What every directory file shares — grids, inspection objects, officers: the checks of its fields,
every problem as ``FILE:LINE: field: message`` reported at once, reading a CSV file under a known
header, and the ``directory`` command group the plug-ins share. No flow plug-in's knowledge lives here."""
