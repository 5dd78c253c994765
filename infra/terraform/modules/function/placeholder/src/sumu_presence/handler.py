"""Placeholder until the presence pipeline's first release: fail, so the event source keeps the input."""


def handler(event, context):
    raise RuntimeError("sumu-presence is not released yet: its pipeline delivers the code")
