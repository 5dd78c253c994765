"""Placeholder until the pusher pipeline's first release: fail, so the event source keeps the input."""


def handler(event, context):
    raise RuntimeError("sumu-pusher is not released yet: its pipeline delivers the code")
