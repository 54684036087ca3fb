"""The user's tools around the workflow, behind one ``gatedloop`` command (``gatedloop.tools.main``)."""
