from sumu_local.conformance.suite import Suite

SUITE = Suite(service="pusher", cases=())
