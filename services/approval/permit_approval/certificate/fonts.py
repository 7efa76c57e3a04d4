"""The CJK font the certificate is set in: found on the machine, embedded in every PDF."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# Debian's fonts-wqy-microhei (TrueType outlines, so fpdf2 subsets and embeds it);
# fonts-noto-cjk's TrueType collection as a second choice.
CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)
FONT_ENV = "PERMIT_APPROVAL_CERTIFICATE_FONT"


class FontMissing(RuntimeError):
    """No CJK font: certificates would show empty boxes instead of Chinese."""


@dataclass(frozen=True)
class Font:
    path: Path
    # The face inside a TrueType collection (.ttc): 0, the proportional one.
    collection_index: int = 0


def find_font(env: dict[str, str] | None = None) -> Font:
    """The configured font, else the first installed candidate; FontMissing with what to install."""
    env = dict(os.environ) if env is None else env
    configured = env.get(FONT_ENV, "").strip()
    if configured:
        if not Path(configured).is_file():
            raise FontMissing(f"{FONT_ENV}={configured} is not a file: set it to a CJK TrueType font, "
                              "or unset it and install Debian's fonts-wqy-microhei")
        return Font(Path(configured))
    for c in CANDIDATES:
        if Path(c).is_file():
            return Font(Path(c))
    raise FontMissing(
        "no CJK font for permit certificates: install Debian's fonts-wqy-microhei "
        f"(apt-get install fonts-wqy-microhei) or set {FONT_ENV} to a CJK TrueType font")
