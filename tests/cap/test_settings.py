"""CAP polling settings come from LOAXA_CAP_* and are checked."""

import pytest
from pydantic import ValidationError

from controller.config import load_settings


def test_cap_settings_from_the_environment() -> None:
    settings = load_settings({"LOAXA_CAP_POLL_S": "5", "LOAXA_CAP_FETCH_TIMEOUT_S": "3"})
    assert (settings.cap.poll_s, settings.cap.fetch_timeout_s) == (5.0, 3.0)
    assert load_settings({}).cap.poll_s == 60.0
    with pytest.raises(ValidationError):
        load_settings({"LOAXA_CAP_POLL_S": "0"})
