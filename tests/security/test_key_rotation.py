"""Rotating the plan-signing key (docs/operations.md): stage, hand agents [old, new], then switch."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from controller.bundle import AgentBundle
from controller.keys import load_or_create_keys
from edge_agent.config import load_config
from edge_agent.intake import read_plan
from loaxa.cli import main
from protocol import PlanBody, ProtocolError, Signer, Verifier
from protocol.signing import load_public_key_b64

DEVICE = "tule-c01"
BODY = PlanBody(1, datetime(2026, 11, 22, 4, tzinfo=UTC), "Asia/Ho_Chi_Minh", (), ())


def _agent_verifier(tmp_path: Path, public_keys: tuple[str, ...]) -> Verifier:
    """What the agent builds from an agent.toml that lists these keys."""
    bundle = AgentBundle(
        device_id=DEVICE,
        mqtt_url="mqtt://127.0.0.1:1883",
        mqtt_password="p",
        public_keys=public_keys,
        state_dir=str(tmp_path / "state"),
        cache_dir=str(tmp_path / "cache"),
    )
    path = tmp_path / f"agent-{len(public_keys)}.toml"
    bundle.write(path)
    config = load_config(path)
    return Verifier([load_public_key_b64(k) for k in config.public_keys], config.device_id)


def _signed(signer: Signer, seq: int) -> bytes:
    return signer.seal(kind="plan", device=DEVICE, seq=seq, body=BODY.to_json(), issued_at=BODY.generated_at)


def test_staged_then_rotated_key_is_accepted_by_agents_holding_both(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys_dir = tmp_path / "data" / "keys"
    old = load_or_create_keys(keys_dir)
    assert main(["--data-dir", str(tmp_path / "data"), "keys", "rotate", "--stage"]) == 0
    staged = load_or_create_keys(keys_dir)
    assert staged.public_key_b64 == old.public_key_b64, "staging must not change the signer yet"
    assert len(staged.public_keys_b64) == 2
    assert f'public_keys = ["{old.public_key_b64}", "{staged.public_keys_b64[1]}"]' in capsys.readouterr().out
    both = _agent_verifier(tmp_path, staged.public_keys_b64)  # bundles made now carry [old, next]
    only_old = _agent_verifier(tmp_path, (old.public_key_b64,))

    assert main(["--data-dir", str(tmp_path / "data"), "keys", "rotate"]) == 0
    new = load_or_create_keys(keys_dir)
    assert new.public_key_b64 == staged.public_keys_b64[1]
    assert new.public_keys_b64 == (new.public_key_b64, old.public_key_b64)
    assert (keys_dir / "signing-ed25519.pem").stat().st_mode & 0o777 == 0o600
    assert not (keys_dir / "signing-ed25519.next.pem").exists()

    assert read_plan(both, _signed(Signer(new.signing_key), 2))[0] == 2
    assert read_plan(both, _signed(Signer(old.signing_key), 1))[0] == 1, "old plans still verify"
    with pytest.raises(ProtocolError) as refused:
        read_plan(only_old, _signed(Signer(new.signing_key), 2))
    assert refused.value.reason == "bad_signature"


def test_rotating_without_staging_and_staging_twice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(tmp_path / "data")
    first = load_or_create_keys(tmp_path / "data" / "keys")
    assert main(["--data-dir", data, "keys", "rotate"]) == 0
    second = load_or_create_keys(tmp_path / "data" / "keys")
    assert second.public_key_b64 != first.public_key_b64
    assert second.public_keys_b64 == (second.public_key_b64, first.public_key_b64)
    assert main(["--data-dir", data, "keys", "rotate", "--stage"]) == 0
    assert main(["--data-dir", data, "keys", "rotate", "--stage"]) == 2
    assert "already staged" in capsys.readouterr().err
