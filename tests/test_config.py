"""Settings: the development secret is made once, even when several processes start at the same moment."""

from __future__ import annotations

import threading

import pytest

from lms.config import _dev_secret_key, load_config


def test_processes_starting_together_agree_on_one_development_secret(tmp_path):
    instance = tmp_path / "instance"
    keys: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def start_up() -> None:
        start.wait()
        try:
            keys.append(_dev_secret_key(instance))
        except BaseException as error:  # collected for the assertion below
            errors.append(error)

    threads = [threading.Thread(target=start_up) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(keys)) == 1 and len(keys[0]) >= 40
    assert sorted(p.name for p in instance.iterdir()) == ["secret_key"]  # no candidate files left behind
    assert (instance / "secret_key").stat().st_mode & 0o077 == 0  # readable by the owner only
    assert _dev_secret_key(instance) == keys[0]  # and kept across restarts


def test_production_refuses_to_start_without_a_secret(tmp_path, monkeypatch):
    monkeypatch.setenv("LMS_ENV", "production")
    monkeypatch.delenv("LMS_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="LMS_SECRET_KEY"):
        load_config(tmp_path)
