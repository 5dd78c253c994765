from pusher_events import LambdaContext, request_body, sqs_event

from sumu_pusher.handler import handler


def test_smoke(stack):
    stack.connect("alice", "a1", "a2")
    response = handler(sqs_event(request_body({"x": 1}, users=["alice"])), LambdaContext())
    assert response == {"batchItemFailures": []}
    assert stack.api.received("a1") == [{"x": 1}]
