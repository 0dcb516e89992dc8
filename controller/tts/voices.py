"""`loaxa voices install NAME [--from PATH]`: fetch a Piper voice, online or from a USB stick, and verify it.

Owns the catalogue of voices we know (where each file lives, its size and published SHA-256), finding a
voice's files on local media, and the verified copy: streamed to a temporary file beside the target,
checked, then renamed, so a failed, truncated or tampered copy never leaves a file Piper could load. The
messages are for the commune's operator, in Vietnamese. It must not load or run voices (that is
`piper_engine`).
"""

import hashlib
import json
import logging
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from controller.config import DEFAULT_PIPER_VOICE, TtsSettings

log = logging.getLogger(__name__)

# rhasspy/piper-voices on Hugging Face, pinned to one revision so the checksums below stay true.
HF_BASE = "https://huggingface.co/rhasspy/piper-voices/resolve/c10ece1aade47bb51c153c893d14e5bf8e5b7117"
_CHUNK = 1 << 16


class VoiceInstallError(Exception):
    """A voice could not be installed; the message says why and what to do."""


class UnknownVoice(VoiceInstallError):
    """The name is not in our catalogue of voices with known checksums."""


class VoiceFilesMissing(VoiceInstallError):
    """The local file or directory given does not hold the voice's files."""


@dataclass(frozen=True)
class VoiceFile:
    """One voice model: its path under the source, and the size and SHA-256 it must have."""

    path: str
    size: int
    sha256: str


CATALOGUE: dict[str, VoiceFile] = {
    "vi_VN-vais1000-medium": VoiceFile(
        "vi/vi_VN/vais1000/medium/vi_VN-vais1000-medium.onnx",
        63_201_294,
        "ec7c89e2c85f4d1edc24b6120c18aaf1bda614f06b511567eb9c7c0de15e2dab",
    ),
}


def install_voice(
    name: str,
    voices_dir: Path,
    *,
    source: Path | None = None,
    base_url: str = HF_BASE,
    catalogue: dict[str, VoiceFile] | None = None,
    timeout_s: float = 15.0,
) -> Path:
    """Install voice `name` (model and config) into `voices_dir`, verified; return the .onnx path.

    From `source` (the .onnx file, or a directory such as a USB stick that holds it) when given, without
    any network; else downloaded from `base_url`.
    """
    known = CATALOGUE if catalogue is None else catalogue
    if name not in known:
        raise UnknownVoice(
            f"Không có giọng đọc tên {name!r} trong danh mục; các giọng đọc có mã kiểm tra: "
            f"{', '.join(sorted(known))}. Hãy gõ lại đúng tên."
        )
    voice = known[name]
    voices_dir.mkdir(parents=True, exist_ok=True)
    model = voices_dir / f"{name}.onnx"
    if model.is_file() and _digest(model) == (voice.size, voice.sha256) and Path(f"{model}.json").is_file():
        log.info("voice %s is already installed at %s", name, model)
        return model
    if source is not None:
        local = find_local_voice(name, voice, source)
        model_url, config_url = local.as_uri(), Path(f"{local}.json").as_uri()
    else:
        model_url = f"{base_url.rstrip('/')}/{voice.path}"
        config_url = f"{model_url}.json"
    _download(config_url, Path(f"{model}.json"), timeout_s, check=_check_config)
    _download(model_url, model, timeout_s, check=lambda path: _check_digest(path, voice, model_url))
    log.info("voice %s installed at %s from %s", name, model, model_url)
    return model


def find_local_voice(name: str, voice: VoiceFile, source: Path) -> Path:
    """The voice's .onnx on local media (`source` itself, or NAME.onnx in it or up to two folders below)."""
    if source.is_file():
        candidates = [source]
    elif source.is_dir():
        candidates = [source / f"{name}.onnx", source / voice.path]
        candidates += sorted(source.glob(f"*/{name}.onnx")) + sorted(source.glob(f"*/*/{name}.onnx"))
    else:
        raise VoiceFilesMissing(
            f"Không tìm thấy {source}: hãy cắm USB có giọng đọc rồi chỉ đúng đường dẫn tới tệp {name}.onnx "
            "hoặc thư mục chứa nó."
        )
    for model in candidates:
        if model.is_file():
            if not Path(f"{model}.json").is_file():
                raise VoiceFilesMissing(
                    f"Có tệp {model} nhưng thiếu tệp cấu hình {model.name}.json bên cạnh: hãy chép cả hai "
                    "tệp từ nguồn giọng đọc vào cùng một thư mục."
                )
            return model
    raise VoiceFilesMissing(
        f"Trong {source} không có tệp {name}.onnx: hãy chép {name}.onnx và {name}.onnx.json vào USB "
        "(tải từ huggingface.co/rhasspy/piper-voices trên một máy có mạng) rồi chạy lại lệnh."
    )


def _download(url: str, target: Path, timeout_s: float, *, check: Callable[[Path], None]) -> None:
    """Stream `url` to a temporary file beside `target`, run `check` on it, then move it into place."""
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=f".{target.name}-", delete=False) as temp:
        part = Path(temp.name)
        try:
            # S310: the URL is our pinned https source, or a test's local file:// or http:// stand-in.
            with urllib.request.urlopen(url, timeout=timeout_s) as answer:  # noqa: S310
                while chunk := answer.read(_CHUNK):
                    temp.write(chunk)
            temp.flush()
            os.fsync(temp.fileno())
        except (urllib.error.URLError, OSError, TimeoutError) as error:
            part.unlink(missing_ok=True)
            raise VoiceInstallError(
                f"Không tải được {url}: {getattr(error, 'reason', error)}. Hãy kiểm tra mạng (máy phải vào "
                "được Hugging Face), hoặc cài từ USB: loaxa voices install TÊN --from /đường/dẫn/usb"
            ) from error
    try:
        check(part)
    except VoiceInstallError:
        part.unlink(missing_ok=True)
        raise
    part.replace(target)


def _digest(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return path.stat().st_size, digest.hexdigest()


def _check_digest(path: Path, voice: VoiceFile, url: str) -> None:
    size, sha256 = _digest(path)
    if (size, sha256) != (voice.size, voice.sha256):
        raise VoiceInstallError(
            f"{url} không phải giọng đọc đã công bố: tệp có {size:,} byte, SHA-256 {sha256}; cần "
            f"{voice.size:,} byte, SHA-256 {voice.sha256}. Tệp đã bị bỏ, không cài. Tệp có thể hỏng hoặc "
            "chép chưa hết: hãy chép lại từ nguồn gốc rồi chạy lại lệnh."
        )


def _check_config(path: Path) -> None:
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise VoiceInstallError(
            f"Tệp cấu hình giọng đọc không phải JSON hợp lệ ({error}); tệp đã bị bỏ. "
            "Hãy chép lại tệp .onnx.json."
        ) from error
    if not isinstance(config, dict) or "phoneme_id_map" not in config:
        raise VoiceInstallError(
            "Tệp cấu hình không có phoneme_id_map nên không phải cấu hình giọng Piper; tệp đã bị bỏ. "
            "Hãy chép đúng tệp .onnx.json đi kèm giọng đọc."
        )


def espeak_warning(settings: TtsSettings, latest_engine: str | None) -> str | None:
    """What the devices page tells the admin when bulletins are read by espeak-ng (else None).

    Either the chain has nothing better (no Google voice configured, no Piper voice installed), or the
    newest bulletin was read by it (offline, or the better voice failed).
    """
    piper = settings.piper_voice
    better = [
        n for n in settings.engines if n == "gtts" or (n == "piper" and piper is not None and piper.is_file())
    ]
    if better and latest_engine != "espeak-ng":
        return None
    install = (
        f"Cài giọng Piper tiếng Việt từ USB (chép tệp {DEFAULT_PIPER_VOICE}.onnx và .onnx.json trên một "
        f"máy có mạng): loaxa voices install {DEFAULT_PIPER_VOICE} --from /media/usb, rồi khởi động lại "
        "bộ điều khiển."
    )
    if not better:
        return f"Xã chỉ có giọng đọc dự phòng espeak-ng, người nghe khó hiểu. {install}"
    if "piper" in better:
        reason = "Giọng Piper đã cài nhưng không đọc được: xem nhật ký của bộ điều khiển."
    else:
        reason = f"Giọng Google cần mạng; khi mất mạng xã chỉ còn espeak-ng. {install}"
    return (
        "Bản tin gần nhất được đọc bằng giọng dự phòng espeak-ng, người nghe khó hiểu. "
        f"{reason} Khi có giọng tốt hơn, các bản tin chưa phát được đọc lại tự động."
    )
