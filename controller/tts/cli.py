"""`loaxa tts "text" -o f.mp3`: render one text the way bulletins are rendered, for operators and demos.

Owns only the command's output (the file, the printed reading and engine, exit codes); it renders through
`render_text` into the deployment's asset store, so a later bulletin with the same text is a cache hit.
"""

import shutil
import sys
from pathlib import Path

from controller.assets import AssetStore
from controller.config import Settings
from controller.tts.errors import NoEngineAvailable, TextRejected
from controller.tts.render import render_text


def render_to_file(settings: Settings, text: str, output: str | Path) -> int:
    """Render `text` to the MP3 file `output`, print the reading and the engine; return the exit code."""
    store = AssetStore(settings.assets_dir)
    try:
        result = render_text(text, settings.tts, store)
    except TextRejected as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except NoEngineAvailable as error:
        print(f"error: {error}", file=sys.stderr)
        return 3
    shutil.copyfile(store.path(result.sha256), output)
    print(result.normalized_text)
    print(
        f"engine {result.engine} ({result.voice}), {result.duration_ms} ms, {result.bytes} bytes → {output}"
    )
    return 0
