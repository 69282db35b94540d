"""The dashboard's core screens, one module each; each has its ``router`` (mounted at ``/ui``)."""
