"""Good and bad files for the upload tests, generated in code (no binary fixtures in git)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from PIL import Image

LIMIT = 1_048_576

GPS_IFD = 0x8825
MAKE, MODEL, ORIENTATION, SOFTWARE = 0x010F, 0x0110, 0x0112, 0x0131


def jpeg(size: tuple[int, int] = (64, 48), *, color: tuple[int, int, int] = (200, 30, 30),
         exif: bool = False, orientation: int | None = None, quality: int = 85) -> bytes:
    """A real JPEG; with ``exif`` it carries camera make/model and a GPS position."""
    im = Image.new("RGB", size, color)
    buf = io.BytesIO()
    kwargs: dict[str, object] = {"quality": quality}
    if exif or orientation:
        e = Image.Exif()
        if exif:
            e[MAKE] = "PhoneMaker"
            e[MODEL] = "Camera X1"
            e[SOFTWARE] = "CameraApp 1.0"
            e[GPS_IFD] = {1: "N", 2: (39.0, 54.0, 27.0), 3: "E", 4: (116.0, 23.0, 30.0)}
        if orientation:
            e[ORIENTATION] = orientation
        kwargs["exif"] = e.tobytes()
    im.save(buf, "JPEG", **kwargs)
    return buf.getvalue()


def png(size: tuple[int, int] = (40, 30), *, text: dict[str, str] | None = None) -> bytes:
    from PIL import PngImagePlugin

    im = Image.new("RGB", size, (10, 120, 200))
    info = PngImagePlugin.PngInfo()
    for k, v in (text or {}).items():
        info.add_text(k, v)
    buf = io.BytesIO()
    im.save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


def _png_chunk(ctype: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", zlib.crc32(ctype + data) & 0xFFFFFFFF)


def png_of_exact_size(total: int) -> bytes:
    """A valid PNG of exactly ``total`` bytes, padded with a private ancillary chunk."""
    base = png((16, 16))
    iend = base[-12:]
    body = base[:-12]
    pad = total - len(base) - 12
    assert pad >= 0
    return body + _png_chunk(b"prVt", b"a" * pad) + iend


def bmp() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(buf, "BMP")
    return buf.getvalue()


def gif() -> bytes:
    buf = io.BytesIO()
    Image.new("P", (8, 8)).save(buf, "GIF")
    return buf.getvalue()


def heic_header() -> bytes:
    """The start of an iPhone photo (ISO-BMFF ftyp box with the heic brand)."""
    return struct.pack(">I", 24) + b"ftypheic" + b"\x00\x00\x00\x00" + b"mif1heic" + b"\x00" * 200


def webp_header() -> bytes:
    return b"RIFF" + struct.pack("<I", 100) + b"WEBPVP8 " + b"\x00" * 100


def windows_exe() -> bytes:
    """An MZ/PE header, as a renamed .exe starts."""
    dos = bytearray(b"MZ" + b"\x90\x00" * 29 + b"\x00" * 2)
    dos += b"\x00" * (0x3C - len(dos)) + struct.pack("<I", 0x80)
    dos += b"\x00" * (0x80 - len(dos)) + b"PE\x00\x00" + b"\x4c\x01" + b"\x00" * 200
    return bytes(dos)


def html() -> bytes:
    return b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


def svg() -> bytes:
    return (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
            b"<script>alert(1)</script></svg>")


def pdf(extra_objects: str = "") -> bytes:
    """A minimal well-formed PDF with a correct xref table and trailer."""
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] " + extra_objects + ">>",
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def pdf_without_trailer() -> bytes:
    """A PDF cut before its trailer (an interrupted export)."""
    whole = pdf()
    return whole[: whole.index(b"trailer")]


def pdf_with_object_stream(action: str = "<< /S /JavaScript /JS (app.alert(1)) >>") -> bytes:
    """A PDF 1.5 whose open action (object 5) is packed in a compressed object stream and
    indexed by a cross-reference stream: no name of it appears in the file's bytes."""
    packed_body = f"5 0 {action}".encode()
    packed = zlib.compress(packed_body)
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R /OpenAction 5 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        4: (b"<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length %d >>\nstream\n" % len(packed)
            + packed + b"\nendstream"),
    }
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for num, body in objects.items():
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + body + b"\nendobj\n"
    xref_at = len(out)
    rows = [struct.pack(">BIH", 0, 0, 65535)]
    rows += [struct.pack(">BIH", 1, offsets[n], 0) for n in (1, 2, 3, 4)]
    rows += [struct.pack(">BIH", 2, 4, 0), struct.pack(">BIH", 1, xref_at, 0)]
    table = b"".join(rows)
    out += (b"6 0 obj\n<< /Type /XRef /Size 7 /Root 1 0 R /W [1 4 2] /Length %d >>\nstream\n" % len(table)
            + table + b"\nendstream\nendobj\n")
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


def pdf_with_javascript() -> bytes:
    return pdf("/AA << /O << /S /J#61vaScript /JS (app.alert(1)) >> >> ")


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="{main}"/>'
    "</Types>"
)
_WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
    "</Relationships>"
)
_DOCUMENT = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    "<w:body><w:p><w:r><w:t>护送方案：全程两车护送。</w:t></w:r></w:p></w:body></w:document>"
)


def docx(extra: dict[str, bytes] | None = None, *, main_type: str = _WORD_MAIN) -> bytes:
    """A minimal Word 2007+ package: content types, relationships, the main document part."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES.replace("{main}", main_type))
        zf.writestr("_rels/.rels", _RELS)
        zf.writestr("word/document.xml", _DOCUMENT)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


def docx_bomb(uncompressed: int = 64 * 1024 * 1024) -> bytes:
    """A DOCX whose one extra part inflates from ~64 KB to ``uncompressed`` bytes of zeros."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES.replace("{main}", _WORD_MAIN))
        zf.writestr("_rels/.rels", _RELS)
        zf.writestr("word/document.xml", _DOCUMENT)
        with zf.open("word/media/filler.bin", "w", force_zip64=False) as fh:
            block = b"\x00" * (1024 * 1024)
            for _ in range(uncompressed // len(block)):
                fh.write(block)
    return buf.getvalue()


def docx_traversal() -> bytes:
    return docx({"../../etc/cron.d/evil": b"* * * * * root sh"})


def docm() -> bytes:
    return docx({"word/vbaProject.bin": b"\x00" * 64},
                main_type="application/vnd.ms-word.document.macroEnabled.main+xml")


def xlsx_like_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
    return buf.getvalue()


def _dir_entry(name: str, etype: int, start: int = 0xFFFFFFFE, size: int = 0, child: int = 0xFFFFFFFF,
               right: int = 0xFFFFFFFF) -> bytes:
    encoded = name.encode("utf-16-le") + b"\x00\x00"
    return (encoded.ljust(64, b"\x00") + struct.pack("<HBB", len(encoded), etype, 1)
            + struct.pack("<III", 0xFFFFFFFF, right, child) + b"\x00" * 16 + b"\x00" * 4
            + b"\x00" * 16 + struct.pack("<IQ", start, size))


def ole2(streams: tuple[str, ...] = ("WordDocument", "1Table")) -> bytes:
    """A minimal OLE2 compound file (v3, 512-byte sectors) whose directory names ``streams``."""
    sector = 512
    header = bytearray(sector)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<I", header, 0x2C, 1)           # one FAT sector
    struct.pack_into("<I", header, 0x30, 1)           # directory starts at sector 1
    struct.pack_into("<I", header, 0x38, 4096)
    struct.pack_into("<II", header, 0x3C, 0xFFFFFFFE, 0)
    struct.pack_into("<II", header, 0x44, 0xFFFFFFFE, 0)
    difat = [0] + [0xFFFFFFFF] * 108
    struct.pack_into("<109I", header, 0x4C, *difat)
    fat = [0xFFFFFFFD, 0xFFFFFFFE] + [0xFFFFFFFF] * 126
    fat_sector = struct.pack("<128I", *fat)
    entries = [_dir_entry("Root Entry", 5, child=1 if streams else 0xFFFFFFFF)]
    for i, name in enumerate(streams):
        right = i + 2 if i + 1 < len(streams) else 0xFFFFFFFF
        entries.append(_dir_entry(name, 2, right=right))
    directory = b"".join(entries).ljust(sector, b"\x00")
    assert len(directory) == sector, "at most 4 directory entries in this tiny writer"
    return bytes(header) + fat_sector + directory


def doc() -> bytes:
    return ole2(("WordDocument", "1Table"))


def doc_with_macros() -> bytes:
    return ole2(("WordDocument", "Macros", "1Table"))


def xls_like_ole2() -> bytes:
    return ole2(("Workbook",))


def jpeg_with_zip_appended() -> bytes:
    return jpeg() + docx()


def jpeg_with_script_comment() -> bytes:
    data = jpeg()
    comment = b"<script>alert(document.cookie)</script>"
    segment = b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment
    return data[:2] + segment + data[2:]


def truncated_jpeg() -> bytes:
    data = jpeg((256, 256), quality=95)
    return data[: len(data) * 2 // 3]


def png_bomb() -> bytes:
    """A small PNG that claims 8,000 x 6,000 pixels (48 MP) of one colour."""
    width, height = 8_000, 6_000
    raw_row = b"\x00" + b"\x00" * width
    comp = zlib.compressobj(9)
    idat = bytearray()
    for _ in range(height):
        idat += comp.compress(raw_row)
    idat += comp.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", bytes(idat)) + _png_chunk(b"IEND", b"")


def progressive_jpeg(size: tuple[int, int] = (96, 64)) -> bytes:
    im = Image.new("RGB", size)
    for x in range(size[0]):
        for y in range(size[1]):
            im.putpixel((x, y), (x * 2 % 256, y * 3 % 256, (x + y) % 256))
    buf = io.BytesIO()
    im.save(buf, "JPEG", progressive=True, quality=80)
    return buf.getvalue()


def jpeg_with_segment_between_scans(segment: bytes) -> bytes:
    """A progressive JPEG with ``segment`` inserted before its second scan."""
    data = progressive_jpeg()
    first = data.index(b"\xff\xda")
    second = data.index(b"\xff\xda", first + 2)
    # Find the start of the marker run (DHT etc. may precede the second SOS): insert right before SOS.
    return data[:second] + segment + data[second:]


def docx_with_lying_sizes() -> bytes:
    """A DOCX whose extra part declares 1,000 bytes but inflates to 8 MiB (a forged bomb)."""
    data = bytearray(docx_bomb(8 * 1024 * 1024))
    real = struct.pack("<I", 8 * 1024 * 1024)
    fake = struct.pack("<I", 1000)
    # Patch the uncompressed size in the local header and the central directory entry.
    for sig, off in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        pos = 0
        while (pos := data.find(sig, pos)) >= 0:
            if data[pos + off:pos + off + 4] == real:
                data[pos + off:pos + off + 4] = fake
            pos += 4
    return bytes(data)
