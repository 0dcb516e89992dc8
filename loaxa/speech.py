"""`loaxa tts "text" -o f.mp3` and `loaxa voices install NAME`, for operators and demos.

Owns only the commands' output (the file, the printed reading and engine, exit codes); it renders through
`render_text` with the commune's dictionary into the deployment's asset store, so a later bulletin with
the same text is a cache hit, and installs voices through `voices`.
"""

import shutil
from pathlib import Path

from controller.assets import AssetStore
from controller.config import Settings
from controller.i18n import format_bytes, format_duration
from controller.tts.commune_lexicon import commune_lexicon
from controller.tts.errors import NoEngineAvailable, TextRejected
from controller.tts.lexicon import LexiconError
from controller.tts.render import render_text
from loaxa.errors import UNAVAILABLE, USAGE, CliError


def render_to_file(settings: Settings, text: str, output: str | Path) -> int:
    """Render `text` to the MP3 file `output`, print the reading and the engine; return the exit code."""
    store = AssetStore(settings.assets_dir)
    try:
        result = render_text(text, settings.tts, store, lexicon=commune_lexicon(settings.data_dir))
    except (TextRejected, LexiconError) as error:
        raise CliError(str(error)) from error
    except NoEngineAvailable as error:
        raise CliError(str(error), exit_code=UNAVAILABLE) from error
    shutil.copyfile(store.path(result.sha256), output)
    print(result.normalized_text)
    print(
        f"giọng đọc {result.engine} ({result.voice}), dài {format_duration(result.duration_ms / 1000)}, "
        f"{format_bytes(result.bytes)} → {output}"
    )
    return 0


def install_voice_cli(
    settings: Settings, name: str, voices_dir: Path | None = None, source: Path | None = None
) -> int:
    """`loaxa voices install NAME [--from PATH]`: install and verify a Piper voice; say what happens next.

    Exit 0 when installed, 2 for an unknown name, 3 when the download fails or the file does not match
    its published SHA-256, 4 when the local file or directory does not hold the voice.
    """
    from controller.tts.voices import UnknownVoice, VoiceFilesMissing, VoiceInstallError, install_voice

    target = voices_dir or settings.data_dir / "voices"
    try:
        model = install_voice(name, target, source=source)
    except VoiceInstallError as error:
        code = USAGE if isinstance(error, UnknownVoice) else 4 if isinstance(error, VoiceFilesMissing) else 3
        raise CliError(str(error), exit_code=code) from error
    print(f"Đã cài và kiểm tra giọng đọc {name} (SHA-256 khớp): {model}")
    if model.parent == settings.data_dir / "voices":
        print(
            "Khởi động lại bộ điều khiển để dùng giọng này; các bản tin đã đọc bằng espeak-ng sẽ được "
            "đọc lại bằng giọng mới."
        )
    else:
        print(f"Để dùng giọng này, đặt LOAXA_TTS_PIPER_VOICE={model} rồi khởi động lại bộ điều khiển.")
    return 0
