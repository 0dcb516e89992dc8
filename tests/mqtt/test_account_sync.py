"""The account watcher: the managed broker's files follow the registry, reloading only on a change."""

from pathlib import Path

from controller.mqtt.account_sync import AccountSync
from controller.mqtt.accounts import BrokerAccount
from controller.mqtt.broker import ManagedBroker
from tests.integration.conftest import wait_for


def test_the_broker_files_follow_the_accounts_and_reload_only_on_a_change(tmp_path: Path) -> None:
    accounts = [BrokerAccount("tule-c01", "$7$hash1", "device")]
    broker = ManagedBroker(tmp_path / "mosquitto", port=1)  # files only: no mosquitto process here
    sync = AccountSync(broker, lambda: list(accounts), interval_s=0.05)
    assert sync.check() is True
    assert (tmp_path / "mosquitto" / "passwd").read_text() == "tule-c01:$7$hash1\n"
    assert sync.check() is False  # unchanged: no reload
    accounts.append(BrokerAccount("tule-c02", "$7$hash2", "device"))
    sync.start()
    try:
        wait_for(
            "the watcher to write tule-c02", lambda: "tule-c02" in broker.passwd_path.read_text() or None, 10
        )
        accounts.pop(0)  # revoked elsewhere
        wait_for(
            "the watcher to drop tule-c01",
            lambda: "tule-c01" not in broker.passwd_path.read_text() or None,
            10,
        )
    finally:
        sync.stop()
    assert sync.reloads == 3 and broker.accounts == accounts


def test_a_failing_read_does_not_end_the_watcher(tmp_path: Path) -> None:
    calls: list[int] = []

    def load() -> list[BrokerAccount]:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("database away")
        return [BrokerAccount("tule-c01", "$7$h", "device")]

    broker = ManagedBroker(tmp_path / "mosquitto", port=1)
    sync = AccountSync(broker, load, interval_s=0.05)
    sync.start()
    try:
        wait_for("a reload after the failed read", lambda: sync.reloads or None, 10)
    finally:
        sync.stop()
    assert broker.accounts == [BrokerAccount("tule-c01", "$7$h", "device")]
