"""The job and notification settings: safe defaults, and a clear refusal of a value that cannot be meant."""

from __future__ import annotations

import pytest

from lms.config import load_config


def test_defaults(tmp_path, monkeypatch):
    for name in ("LMS_JOBS_RUNNER", "LMS_NOTIFY_HANDBOOK_DUE_DAYS", "LMS_NOTIFY_CERTIFICATE_EXPIRY_DAYS"):
        monkeypatch.delenv(name, raising=False)
    config = load_config(tmp_path)
    assert config["JOBS_RUNNER"] == "auto"
    assert config["NOTIFY_HANDBOOK_DUE_DAYS"] == (3, 1)
    assert config["NOTIFY_CERTIFICATE_EXPIRY_DAYS"] == (60, 14)


def test_days_are_read_in_any_order_and_spacing(tmp_path, monkeypatch):
    monkeypatch.setenv("LMS_NOTIFY_CERTIFICATE_EXPIRY_DAYS", " 7, 30 ,90")
    monkeypatch.setenv("LMS_JOBS_RUNNER", " Worker ")
    config = load_config(tmp_path)
    assert config["NOTIFY_CERTIFICATE_EXPIRY_DAYS"] == (90, 30, 7)
    assert config["JOBS_RUNNER"] == "worker"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("LMS_JOBS_RUNNER", "cron", "LMS_JOBS_RUNNER must be one of auto, thread, worker, manual"),
        ("LMS_NOTIFY_HANDBOOK_DUE_DAYS", "three", "whole numbers of days"),
        ("LMS_NOTIFY_HANDBOOK_DUE_DAYS", "3,0", "each 1 or more"),
        ("LMS_NOTIFY_CERTIFICATE_EXPIRY_DAYS", ",", "at least one number of days"),
    ],
)
def test_a_value_that_cannot_be_meant_stops_the_start_with_a_clear_message(
    tmp_path, monkeypatch, name, value, message
):
    monkeypatch.setenv(name, value)
    with pytest.raises(RuntimeError, match=message):
        load_config(tmp_path)
