"""Format detection by content: magic bytes, then a structural check per format.

Pure functions, no I/O. The file name and the claimed media type never decide
the format; they are only compared with it to refuse mislabelled files.
"""

from __future__ import annotations

import enum
import io
import logging
import re
import struct
import warnings
import zipfile
import zlib
from dataclasses import dataclass

import olefile
import pypdf
from PIL import Image

from permit_documents import errors
from permitkit.errors import PermitError

MAX_UPLOAD_BYTES = 1_048_576  # AP-4/AP-8/AP-9: "1MB" read as 1 MiB, the binary megabyte.
MAX_IMAGE_PIXELS = 40_000_000  # Pillow decodes into memory: refuse decompression bombs early.
MAX_ZIP_ENTRIES = 2_000
MAX_ZIP_UNCOMPRESSED = 32 * 1024 * 1024
MAX_ZIP_RATIO = 100  # only applies past 4 MiB uncompressed: ordinary DOCX XML compresses ~10x


class Format(enum.Enum):
    """Formats the service stores."""

    JPEG = "image/jpeg"
    PNG = "image/png"
    PDF = "application/pdf"
    DOC = "application/msword"
    DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

    @property
    def content_type(self) -> str:
        return self.value

    @property
    def label(self) -> str:
        return "JPG" if self is Format.JPEG else self.name

    @property
    def is_image(self) -> bool:
        return self in (Format.JPEG, Format.PNG)


EXTENSIONS: dict[Format, frozenset[str]] = {
    Format.JPEG: frozenset({"jpg", "jpeg", "jpe", "jfif"}),
    Format.PNG: frozenset({"png"}),
    Format.PDF: frozenset({"pdf"}),
    Format.DOC: frozenset({"doc"}),
    Format.DOCX: frozenset({"docx"}),
}

DECLARED_TYPES: dict[Format, frozenset[str]] = {
    Format.JPEG: frozenset({"image/jpeg", "image/jpg", "image/pjpeg"}),
    Format.PNG: frozenset({"image/png", "image/x-png"}),
    Format.PDF: frozenset({"application/pdf", "application/x-pdf"}),
    Format.DOC: frozenset({"application/msword"}),
    Format.DOCX: frozenset({Format.DOCX.value}),
}

# Names and types that say nothing about the content (pickers on phones use them).
NEUTRAL_EXTENSIONS = frozenset({"", "tmp", "bin", "dat", "file", "upload"})
NEUTRAL_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream", "application/unknown"})


@dataclass(frozen=True)
class Detected:
    """What the content is: its format and, for images, the pixel size."""

    format: Format
    width: int = 0
    height: int = 0


# --- signatures -----------------------------------------------------------

_EXECUTABLE_MAGIC = (
    b"MZ",  # DOS/Windows PE
    b"\x7fELF",
    b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe",  # Mach-O
    b"\xca\xfe\xba\xbe",  # Mach-O fat / Java class
    b"#!",  # scripts
    b"\x00asm",  # WebAssembly
    b"dex\n",  # Android
)

_ISO_BMFF_IMAGE_BRANDS = {
    b"heic": "HEIC", b"heix": "HEIC", b"hevc": "HEIC", b"hevx": "HEIC", b"heim": "HEIC",
    b"heis": "HEIC", b"mif1": "HEIF", b"msf1": "HEIF", b"avif": "AVIF", b"avis": "AVIF",
}

# Markers of other formats that must not hide inside an image or after its end.
_FOREIGN_MARKERS = (
    b"<script", b"<html", b"<!doctype", b"<svg", b"<?php", b"<iframe", b"javascript:",
)
_FOREIGN_BINARY_MARKERS = (b"PK\x03\x04", b"%PDF-", b"Rar!\x1a\x07", b"7z\xbc\xaf\x27\x1c", b"\x7fELF")

_PDF_ACTIVE_NAMES = frozenset({"JavaScript", "JS", "Launch", "EmbeddedFile", "EmbeddedFiles", "RichMedia", "XFA"})

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def detect(data: bytes) -> Detected:
    """Recognise ``data`` and check its structure, or raise the domain error saying why not."""
    if not data:
        raise errors.FileEmpty()
    head = data[:64]
    if head.startswith(b"\xff\xd8\xff"):
        return _check_jpeg(data)
    if head.startswith(_PNG_MAGIC):
        return _check_png(data)
    if head.startswith(b"%PDF-"):
        return _check_pdf(data)
    if head.startswith(_OLE2_MAGIC):
        return _check_doc(data)
    if head.startswith(b"PK\x03\x04"):
        return _check_docx(data)
    unsupported_image = _unsupported_image_name(head)
    if unsupported_image:
        hint = ("（苹果手机可在“设置 > 相机 > 格式”中选择“兼容性最佳”，拍摄 JPG 照片）"
                if unsupported_image in ("HEIC", "HEIF") else "")
        raise errors.UnsupportedImageFormat(
            f"不支持 {unsupported_image} 格式的图片。{errors.CONVERT_ADVICE}{hint}",
            field="chunk", metadata={"detected": unsupported_image.lower()},
        )
    if head.startswith(b"{\\rtf"):
        raise errors.UnsupportedFormat(
            "该文件实际为 RTF 格式，请在电脑上另存为 DOC、DOCX 或 PDF 格式后重新上传。",
            field="chunk", metadata={"detected": "rtf"},
        )
    if any(head.startswith(m) for m in _EXECUTABLE_MAGIC):
        raise errors.UnsupportedFormat(
            "不能上传可执行程序或脚本文件，请上传 JPG、PNG 图片或 PDF、DOC、DOCX 文件。",
            field="chunk", metadata={"detected": "executable"},
        )
    text = _strip_text_prefix(data[:4096]).lower()
    if text.startswith(b"<"):
        kind = "svg" if b"<svg" in text else "html" if b"<html" in text or b"<!doctype" in text else "markup"
        raise errors.UnsupportedFormat(
            "不能上传网页、SVG 或其他标记语言文件，请上传 JPG、PNG 图片或 PDF、DOC、DOCX 文件。",
            field="chunk", metadata={"detected": kind},
        )
    raise errors.UnsupportedFormat(field="chunk", metadata={"detected": "unknown"})


def check_label(detected: Format, *, filename: str, declared_content_type: str) -> None:
    """Refuse a file whose name or claimed type contradicts its content (FILE_MISLABELLED)."""
    ext = filename.rsplit(".", 1)[1].strip().lower() if "." in filename else ""
    if ext not in NEUTRAL_EXTENSIONS and ext not in EXTENSIONS[detected]:
        raise errors.FileMislabelled(
            f"文件扩展名（.{ext}）与实际内容（{detected.label}）不符，请确认文件后重新上传。",
            field="header.filename", metadata={"detected": detected.name.lower(), "extension": ext},
        )
    declared = declared_content_type.split(";", 1)[0].strip().lower()
    if declared not in NEUTRAL_TYPES and declared not in DECLARED_TYPES[detected]:
        raise errors.FileMislabelled(
            f"声明的文件类型（{declared}）与实际内容（{detected.label}）不符，请确认文件后重新上传。",
            field="header.declared_content_type",
            metadata={"detected": detected.name.lower(), "declared": declared},
        )


# --- helpers ----------------------------------------------------------------

def _strip_text_prefix(chunk: bytes) -> bytes:
    for bom in (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"):
        if chunk.startswith(bom):
            chunk = chunk[len(bom):]
            break
    # UTF-16 markup: drop the NULs so "<\0h\0t\0m\0l\0" reads as "<html".
    if b"\x00" in chunk[:8]:
        chunk = chunk.replace(b"\x00", b"")
    return chunk.lstrip()


def _unsupported_image_name(head: bytes) -> str | None:
    if head[4:8] == b"ftyp" and head[8:12] in _ISO_BMFF_IMAGE_BRANDS:
        return _ISO_BMFF_IMAGE_BRANDS[head[8:12]]
    if head[4:8] == b"ftyp":
        # A compatible brand list can name HEIF even when the major brand is generic.
        box_len = int.from_bytes(head[0:4], "big")
        brands = head[16:min(box_len, len(head))]
        for i in range(0, len(brands) - 3, 4):
            if brands[i:i + 4] in _ISO_BMFF_IMAGE_BRANDS:
                return _ISO_BMFF_IMAGE_BRANDS[brands[i:i + 4]]
        return None
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "WebP"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    if head.startswith(b"BM") and len(head) >= 18 and int.from_bytes(head[14:18], "little") in (12, 40, 52, 56, 64, 108, 124):
        return "BMP"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "TIFF"
    if head.startswith(b"\x00\x00\x00\x0cjP  ") or head.startswith(b"\xff\x4f\xff\x51"):
        return "JPEG 2000"
    if head.startswith(b"8BPS"):
        return "PSD"
    if head.startswith(b"\x00\x00\x01\x00") and len(head) > 6 and head[4] > 0:
        return "ICO"
    return None


def _refuse_foreign_content(data: bytes, *, binary_markers: bool) -> None:
    lowered = data.lower()
    for marker in _FOREIGN_MARKERS:
        if marker in lowered:
            raise errors.FilePolyglot(field="chunk", metadata={"marker": marker.decode("ascii")})
    if binary_markers:
        for marker in _FOREIGN_BINARY_MARKERS:
            if marker in data:
                raise errors.FilePolyglot(field="chunk", metadata={"marker": marker[:4].hex()})


def _refuse_trailing(data: bytes, end: int) -> None:
    """Bytes after an image's end marker.

    Phones append their own trailers there (Samsung's SEFH, motion-photo
    videos); those are harmless and are cut off when the image is stored. A
    trailer that is another file format or markup makes a polyglot: refused.
    """
    trailing = data[end:]
    if not trailing.strip(b"\x00\r\n\t "):
        return
    lowered = trailing.lower()
    if (
        trailing.lstrip(b"\x00\r\n\t ").startswith((b"MZ", b"#!"))
        or any(m in trailing for m in _FOREIGN_BINARY_MARKERS)
        or any(m in lowered for m in _FOREIGN_MARKERS)
        or any(m in lowered for m in (b"<?xml", b"<body", b"<head"))
    ):
        raise errors.FilePolyglot(
            "图片结束标记之后还附带了其他文件，出于安全原因不能上传，请重新导出图片后上传。",
            field="chunk", metadata={"trailing_bytes": str(len(trailing))},
        )


def _decode_image(data: bytes, expected: str) -> tuple[int, int]:
    try:
        with warnings.catch_warnings():
            # Broken EXIF only warns; a decompression bomb must stop the decode.
            warnings.simplefilter("ignore")
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                if im.format != expected:
                    raise errors.FileCorrupt(field="chunk")
                width, height = im.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise errors.ImageTooLarge(field="chunk",
                                               metadata={"width": str(width), "height": str(height)})
                im.load()
    except PermitError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise errors.ImageTooLarge(field="chunk") from None
    except Exception:  # noqa: BLE001 - any decoder failure means a broken image
        raise errors.FileCorrupt("图片已损坏或不完整，无法打开，请重新拍照或选择图片后上传。",
                                 field="chunk") from None
    return width, height


# --- JPEG -------------------------------------------------------------------

@dataclass(frozen=True)
class JpegSegment:
    """One marker segment: its marker byte and where it lies (a scan includes its coded data)."""

    marker: int
    start: int
    end: int


def jpeg_structure(data: bytes) -> tuple[list[JpegSegment], int]:
    """Walk a JPEG: every marker segment after SOI, and where the EOI marker ends.

    Raises FileCorrupt when the marker structure is broken or the file is cut short.
    """
    corrupt = errors.FileCorrupt("图片已损坏或不完整，无法打开，请重新拍照或选择图片后上传。", field="chunk")
    n = len(data)
    pos = 2
    segments: list[JpegSegment] = []
    while True:
        if pos + 2 > n or data[pos] != 0xFF:
            raise corrupt
        while pos < n and data[pos] == 0xFF:  # fill bytes
            pos += 1
        if pos >= n:
            raise corrupt
        marker = data[pos]
        seg_start = pos - 1
        pos += 1
        if marker == 0xD9:
            return segments, pos
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            continue
        if pos + 2 > n:
            raise corrupt
        length = struct.unpack(">H", data[pos:pos + 2])[0]
        if length < 2 or pos + length > n:
            raise corrupt
        pos += length
        if marker == 0xDA:
            # Entropy-coded data runs to the next marker that is not a stuffed
            # zero or a restart marker.
            while True:
                nxt = data.find(b"\xff", pos)
                if nxt < 0 or nxt + 1 >= n:
                    raise corrupt
                b = data[nxt + 1]
                if b == 0x00 or 0xD0 <= b <= 0xD7:
                    pos = nxt + 2
                    continue
                if b == 0xFF:
                    pos = nxt + 1
                    continue
                pos = nxt
                break
        segments.append(JpegSegment(marker, seg_start, pos))


def _check_jpeg(data: bytes) -> Detected:
    segments, end = jpeg_structure(data)
    if not any(seg.marker == 0xDA for seg in segments):
        raise errors.FileCorrupt(field="chunk")
    _refuse_trailing(data, end)
    _refuse_foreign_content(data[:end], binary_markers=False)
    # Marker segments are not entropy-coded: another file's signature there is a polyglot.
    _refuse_foreign_content(b"".join(data[s.start:s.end] for s in segments if s.marker != 0xDA),
                            binary_markers=True)
    width, height = _decode_image(data[:end], "JPEG")
    return Detected(Format.JPEG, width, height)


# --- PNG ---------------------------------------------------------------------

def png_chunks(data: bytes) -> list[tuple[bytes, int, int]]:
    """The PNG's chunks as (type, start, end) with CRCs verified, up to IEND."""
    corrupt = errors.FileCorrupt("图片已损坏或不完整，无法打开，请重新拍照或选择图片后上传。", field="chunk")
    pos = len(_PNG_MAGIC)
    out: list[tuple[bytes, int, int]] = []
    n = len(data)
    while True:
        if pos + 12 > n:
            raise corrupt
        length = struct.unpack(">I", data[pos:pos + 4])[0]
        ctype = data[pos + 4:pos + 8]
        end = pos + 12 + length
        if end > n or not ctype.isalpha():
            raise corrupt
        crc = struct.unpack(">I", data[end - 4:end])[0]
        if zlib.crc32(data[pos + 4:end - 4]) & 0xFFFFFFFF != crc:
            raise corrupt
        if not out and ctype != b"IHDR":
            raise corrupt
        out.append((ctype, pos, end))
        pos = end
        if ctype == b"IEND":
            return out


def _check_png(data: bytes) -> Detected:
    chunks = png_chunks(data)
    end = chunks[-1][2]
    _refuse_trailing(data, end)
    _refuse_foreign_content(data[:end], binary_markers=False)
    _refuse_foreign_content(b"".join(data[a:b] for t, a, b in chunks if t != b"IDAT"), binary_markers=True)
    width, height = _decode_image(data[:end], "PNG")
    return Detected(Format.PNG, width, height)


# --- PDF ---------------------------------------------------------------------
# The file's shape (header, trailer, startxref) is checked on the bytes; the
# objects are read by pypdf, every one of them, including those packed in
# compressed object streams (PDF 1.5+), where a byte scan sees nothing.

_PDF_HEADER = re.compile(rb"%PDF-[12]\.\d")
_PDF_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
_PDF_NAME = re.compile(rb"/([A-Za-z0-9#_.\-]+)")
# pypdf inflates object streams in memory: no more than the upload limits allow.
_PDF_MAX_OBJECTS = 50_000
_PDF_MAX_DEPTH = 64
logging.getLogger("pypdf").setLevel(logging.ERROR)  # damaged files are refused here, not logged there


def _check_pdf(data: bytes) -> Detected:
    if not _PDF_HEADER.match(data):
        raise errors.FileCorrupt("PDF 文件头无效，文件已损坏，请重新导出 PDF 后上传。", field="chunk")
    tail = data[-1024:].rstrip(b"\x00\r\n\t ")
    eof = tail.rfind(b"%%EOF")
    m = _PDF_STARTXREF.search(tail[max(0, eof - 64):] if eof >= 0 else b"")
    if eof < 0 or not m:
        raise errors.FileCorrupt("PDF 文件不完整（缺少文件尾），请重新导出 PDF 后上传。", field="chunk",
                                 metadata={"missing": "trailer"})
    offset = int(m.group(1))
    # Readers tolerate an offset a few bytes off (line-ending rewrites); a
    # pointer outside the file or to nothing like a cross-reference is broken.
    window = data[max(0, offset - 16):offset + 48] if offset < len(data) else b""
    if not (b"xref" in window or re.search(rb"\d+\s+\d+\s+obj", window)):
        raise errors.FileCorrupt("PDF 文件不完整（交叉引用表无效），请重新导出 PDF 后上传。", field="chunk",
                                 metadata={"missing": "xref"})
    if b"trailer" not in data and b"/XRef" not in data:
        raise errors.FileCorrupt("PDF 文件不完整（缺少文件尾），请重新导出 PDF 后上传。", field="chunk",
                                 metadata={"missing": "trailer"})
    names = _pdf_object_names(data)
    # Names written in the open anywhere in the file too (an object no
    # cross-reference lists is still read by lenient viewers).
    names |= {_pdf_name(m.group(1)) for m in _PDF_NAME.finditer(data)}
    active = names & _PDF_ACTIVE_NAMES
    if active:
        raise errors.ActiveContent("PDF 文件包含脚本或嵌入文件，出于安全原因不能上传，请重新导出为普通 PDF 后上传。",
                                   field="chunk", metadata={"names": ",".join(sorted(active))})
    _refuse_foreign_content(data, binary_markers=False)
    return Detected(Format.PDF)


def _pdf_object_names(data: bytes) -> set[str]:
    """Every name (dictionary keys and name values) of every object pypdf finds in the file."""
    corrupt = errors.FileCorrupt("PDF 文件已损坏，无法读取，请重新导出 PDF 后上传。", field="chunk")
    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise errors.UnsupportedFormat("不能上传加密的文档，请取消密码后重新上传。", field="chunk",
                                           metadata={"detected": "encrypted"})
        refs = [(num, gen) for gen, table in reader.xref.items() for num in table]
        refs += [(num, 0) for num in reader.xref_objStm]
        if len(refs) > _PDF_MAX_OBJECTS:
            raise errors.ArchiveUnsafe(field="chunk", metadata={"objects": str(len(refs))})
        names: set[str] = set()
        _collect_pdf_names(reader.trailer, names, 0)
        for num, gen in refs:
            obj = reader.get_object(pypdf.generic.IndirectObject(num, gen, reader))
            _collect_pdf_names(obj, names, 0)
        return names
    except PermitError:
        raise
    except RecursionError:
        raise corrupt from None
    except Exception:  # noqa: BLE001 - pypdf raises many types on damaged or forged files
        raise corrupt from None


def _collect_pdf_names(obj: object, names: set[str], depth: int) -> None:
    if depth > _PDF_MAX_DEPTH:
        raise errors.FileCorrupt("PDF 文件结构异常，请重新导出 PDF 后上传。", field="chunk")
    generic = pypdf.generic
    if isinstance(obj, generic.IndirectObject):
        return  # every object is visited on its own
    if isinstance(obj, generic.NameObject):
        names.add(str(obj).lstrip("/"))
    elif isinstance(obj, dict):  # DictionaryObject and StreamObject
        for key, value in obj.items():
            names.add(str(key).lstrip("/"))
            _collect_pdf_names(value, names, depth + 1)
    elif isinstance(obj, list):
        for item in obj:
            _collect_pdf_names(item, names, depth + 1)


def _pdf_name(raw: bytes) -> str:
    # PDF names may hide letters as #xx escapes (/J#61vaScript).
    decoded = re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), raw)
    return decoded.decode("latin-1")


# --- DOCX (Office Open XML) ----------------------------------------------------

_WORD_MAIN = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_WORD_MACRO = b"application/vnd.ms-word.document.macroEnabled.main+xml"


def _check_docx(data: bytes) -> Detected:
    _check_zip_envelope(data)
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except Exception:  # noqa: BLE001 - zipfile raises many types on forged headers
        raise errors.FileCorrupt("DOCX 文件已损坏，请重新导出后上传。", field="chunk") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ZIP_ENTRIES:
            raise errors.ArchiveUnsafe(field="chunk", metadata={"entries": str(len(infos))})
        names: set[str] = set()
        total = 0
        for info in infos:
            _check_zip_name(info.filename)
            if info.filename in names:
                raise errors.ArchiveUnsafe(field="chunk", metadata={"duplicate": info.filename})
            names.add(info.filename)
            if info.flag_bits & 0x1:
                raise errors.UnsupportedFormat("不能上传加密的文档，请取消密码后重新上传。", field="chunk",
                                               metadata={"detected": "encrypted"})
            total += info.file_size
        if total > MAX_ZIP_UNCOMPRESSED or (
            total > 4 * 1024 * 1024 and total > MAX_ZIP_RATIO * max(1, len(data))
        ):
            raise errors.ArchiveUnsafe(field="chunk", metadata={"uncompressed": str(total)})
        if "[Content_Types].xml" not in names:
            raise errors.UnsupportedFormat(
                "该压缩文件不是 Word 文档（DOCX），请上传 JPG、PNG 图片或 PDF、DOC、DOCX 文件。",
                field="chunk", metadata={"detected": "zip"},
            )
        # Read every entry with a hard cap: declared sizes can lie, and CRCs are checked on read.
        budget = MAX_ZIP_UNCOMPRESSED
        content_types = b""
        for info in infos:
            try:
                with zf.open(info) as fh:
                    read = 0
                    while True:
                        block = fh.read(65536)
                        if not block:
                            break
                        read += len(block)
                        budget -= len(block)
                        if budget < 0 or read > info.file_size:
                            raise errors.ArchiveUnsafe(field="chunk", metadata={"entry": info.filename})
                        if info.filename == "[Content_Types].xml" and len(content_types) < 1_000_000:
                            content_types += block
            except PermitError:
                raise
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError):
                raise errors.FileCorrupt("DOCX 文件已损坏，请重新导出后上传。", field="chunk") from None
        lowered = {n.lower() for n in names}
        if _WORD_MACRO in content_types or any(n.endswith("vbaproject.bin") for n in lowered):
            raise errors.ActiveContent(field="chunk", metadata={"detected": "docm"})
        main_part = _word_main_part(content_types)
        if main_part is None or main_part not in names:
            raise errors.UnsupportedFormat(
                "该压缩文件不是 Word 文档（DOCX），请上传 JPG、PNG 图片或 PDF、DOC、DOCX 文件。",
                field="chunk", metadata={"detected": "zip"},
            )
        if any(n.startswith("word/embeddings/") and n.endswith((".exe", ".bin", ".dll", ".js", ".vbs"))
               for n in lowered):
            raise errors.ActiveContent(field="chunk", metadata={"detected": "embedded_program"})
    return Detected(Format.DOCX)


_OVERRIDE = re.compile(rb"<(?:\w+:)?Override\b[^>]*>", re.S)
_ATTR = re.compile(rb'(PartName|ContentType)\s*=\s*["\']([^"\']*)["\']')


def _word_main_part(content_types: bytes) -> str | None:
    """The zip entry name of the Word main document part declared in [Content_Types].xml."""
    for m in _OVERRIDE.finditer(content_types):
        attrs: dict[bytes, bytes] = {k: v for k, v in _ATTR.findall(m.group(0))}
        part = attrs.get(b"PartName", b"")
        if attrs.get(b"ContentType") == _WORD_MAIN and part:
            return part.decode("utf-8", "replace").lstrip("/")
    return None


def _check_zip_envelope(data: bytes) -> None:
    """The archive must end with its end-of-central-directory record: nothing appended."""
    eocd = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if eocd < 0 or eocd + 22 > len(data):
        raise errors.FileCorrupt("DOCX 文件已损坏或不完整，请重新导出后上传。", field="chunk")
    comment_len = struct.unpack("<H", data[eocd + 20:eocd + 22])[0]
    if eocd + 22 + comment_len != len(data):
        raise errors.FilePolyglot(field="chunk", metadata={"trailing_bytes": str(len(data) - eocd - 22 - comment_len)})
    cd_size, cd_offset = struct.unpack("<II", data[eocd + 12:eocd + 20])
    if cd_offset == 0xFFFFFFFF or cd_offset + cd_size != eocd:
        # Prepended data shifts the central directory (a classic polyglot trick).
        raise errors.FilePolyglot(field="chunk", metadata={"reason": "central_directory_offset"})


def _check_zip_name(name: str) -> None:
    parts = name.replace("\\", "/").split("/")
    if (
        name.startswith(("/", "\\"))
        or "\\" in name
        or "\x00" in name
        or re.match(r"^[A-Za-z]:", name)
        or ".." in parts
    ):
        raise errors.ArchiveUnsafe(field="chunk", metadata={"entry": name[:200]})


# --- DOC (OLE2 compound file) --------------------------------------------------
# Read by olefile: header, FAT, DIFAT and directory chains, each checked to
# stay inside the file.


def ole2_entries(data: bytes) -> dict[str, int]:
    """Names of an OLE2 compound file's directory entries -> entry type (olefile's STGTY_*).

    Every entry of the directory is listed, also one no storage links to (a
    lenient reader may still find it by name). A truncated or forged file is
    refused (FILE_CORRUPT).
    """
    corrupt = errors.FileCorrupt("DOC 文件已损坏或不完整，请重新导出后上传。", field="chunk")
    try:
        # DEFECT_INCORRECT and worse: anything beyond a harmless oddity stops the read.
        with olefile.OleFileIO(io.BytesIO(data), raise_defects=olefile.DEFECT_INCORRECT) as ole:
            entries: dict[str, int] = {}
            fp = ole.directory_fp
            for sid in range(len(ole.direntries)):
                entry = ole.direntries[sid]
                if entry is None:
                    fp.seek(sid * 128)
                    raw = fp.read(128)
                    etype = raw[0x42] if len(raw) == 128 else olefile.STGTY_EMPTY
                    if etype == olefile.STGTY_EMPTY:
                        continue
                    entry = olefile.olefile.OleDirectoryEntry(raw, sid, ole)
                entries[entry.name] = entry.entry_type
    except PermitError:
        raise
    except Exception:  # noqa: BLE001 - olefile raises many types on damaged or forged files
        raise corrupt from None
    if entries.get("Root Entry") != olefile.STGTY_ROOT:
        raise corrupt
    return entries


def _check_doc(data: bytes) -> Detected:
    if not olefile.isOleFile(data=data):
        raise errors.FileCorrupt("DOC 文件已损坏或不完整，请重新导出后上传。", field="chunk")
    entries = ole2_entries(data)
    if "WordDocument" not in entries:
        raise errors.UnsupportedFormat(
            "该文件不是 Word 文档（DOC），请上传 JPG、PNG 图片或 PDF、DOC、DOCX 文件。",
            field="chunk", metadata={"detected": "ole2"},
        )
    if "Macros" in entries or "VBA" in entries or "_VBA_PROJECT" in entries:
        raise errors.ActiveContent(field="chunk", metadata={"detected": "doc_macros"})
    if "EncryptionInfo" in entries:
        raise errors.UnsupportedFormat("不能上传加密的文档，请取消密码后重新上传。", field="chunk",
                                       metadata={"detected": "encrypted"})
    return Detected(Format.DOC)
