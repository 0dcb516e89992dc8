"""Content-addressed audio assets: the store, signed download URLs and HTTP Range answers (DESIGN §4).

Pure storage and HTTP helpers: nothing here knows bulletins, text to speech or Flask.
"""

from controller.assets.ranges import RangeAnswer, answer_range
from controller.assets.signing import AssetUrlError, AssetUrlExpired, sign_asset_url, verify_asset_signature
from controller.assets.store import AssetStore, InvalidAssetId, is_sha256

__all__ = [
    "AssetStore",
    "AssetUrlError",
    "AssetUrlExpired",
    "InvalidAssetId",
    "RangeAnswer",
    "answer_range",
    "is_sha256",
    "sign_asset_url",
    "verify_asset_signature",
]
