"""The invocation log line is valid CloudWatch EMF."""

from __future__ import annotations

import json

from sumu_pusher.telemetry import InvocationFigures, invocation_line, log_invocation


def test_every_metric_named_in_the_metadata_is_a_number_at_the_root():
    line = invocation_line(InvocationFigures(records=3, delivered=7, duration_ms=12.5), 1_000)
    [directive] = line["_aws"]["CloudWatchMetrics"]
    assert line["_aws"]["Timestamp"] == 1_000
    assert directive["Dimensions"] == [["service"]]
    assert line["service"] == "sumu-pusher"
    names = {metric["Name"] for metric in directive["Metrics"]}
    assert {"records", "connections_targeted", "delivered", "gone", "retried", "failed"} <= names
    assert "duration_ms" in names
    for name in names:
        assert isinstance(line[name], int | float)
    units = {metric["Name"]: metric["Unit"] for metric in directive["Metrics"]}
    assert units["duration_ms"] == "Milliseconds"
    assert units["delivered"] == "Count"


def test_the_line_is_one_json_object_on_stdout(capsys):
    log_invocation(InvocationFigures(records=1))
    [line] = capsys.readouterr().out.splitlines()
    assert json.loads(line)["records"] == 1
