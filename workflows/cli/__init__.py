"""The yunshang command line (Typer), built for a list of flow plug-ins by build_app."""
