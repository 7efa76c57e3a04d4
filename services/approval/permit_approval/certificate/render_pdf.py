"""The certificate as a PDF (fpdf2): A4 to print, and a narrow page for the phone image (CT-1).

The CJK font is embedded (subset) in every PDF, so any reader shows the Chinese.
Output is deterministic for the same content: a re-render stores the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from permit_approval.certificate.content import (
    REASON_LABELS,
    Content,
    metres,
    province_name,
    tonnes,
)
from permit_approval.certificate.fonts import Font, find_font
from permit_approval.certificate.qr import qr_png

TITLE = "超限运输车辆通行证"
FAMILY = "cjk"
INK = (20, 20, 20)
ACCENT = (160, 20, 30)
RULE = (120, 120, 120)
LABEL_FILL = (244, 240, 232)


@dataclass(frozen=True)
class Layout:
    """A page shape: A4 for printing, a narrow tall page for phones."""

    width: float
    margin: float
    title_size: float
    text_size: float
    label_width: float
    qr_size: float
    qr_beside_title: bool


A4 = Layout(width=210, margin=15, title_size=22, text_size=10.5, label_width=32, qr_size=38,
            qr_beside_title=True)
PHONE = Layout(width=90, margin=5, title_size=14, text_size=8, label_width=18, qr_size=52,
               qr_beside_title=False)
A4_HEIGHT = 297.0


def _date_zh(iso: str) -> str:
    d = dt.date.fromisoformat(iso)
    return f"{d.year}年{d.month}月{d.day}日"


class _Doc(FPDF):
    def __init__(self, layout: Layout, height: float, font: Font, made: dt.date) -> None:
        super().__init__(unit="mm", format=(layout.width, height))
        self.layout = layout
        self.set_margins(layout.margin, layout.margin, layout.margin)
        self.set_auto_page_break(auto=layout is A4, margin=layout.margin)
        self.add_font(FAMILY, "", str(font.path), collection_font_number=font.collection_index)
        self.set_font(FAMILY, size=layout.text_size)
        self.set_text_color(*INK)
        # Fixed metadata: the same content renders to the same bytes (stored once).
        stamp = dt.datetime(made.year, made.month, made.day, tzinfo=dt.UTC)
        self.set_creation_date(stamp)
        self.set_creator("permit-approval")
        self.set_producer("permit-approval")
        self.set_title(TITLE)
        self.set_lang("zh-CN")


def rows_of(content: Content, applicant_name: str) -> list[tuple[str, str]]:
    """The labelled rows of the certificate, in print order."""
    rows = [("通行证编号", content.permit_number),
            ("申请人", applicant_name or content.holder)]
    vehicles = "；".join(f"{v['plate_number']}（{v['vehicle_type']}）" if v.get("vehicle_type")
                        else v["plate_number"] for v in content.vehicles)
    rows.append(("车辆", vehicles or "—"))
    if content.cargo:
        c = content.cargo
        rows.append(("货物", f"{c.get('name') or '—'}，质量 {tonnes(int(c.get('weight_kg') or 0))} 吨，"
                            f"长×宽×高 {metres(int(c.get('length_mm') or 0))}×"
                            f"{metres(int(c.get('width_mm') or 0))}×"
                            f"{metres(int(c.get('height_mm') or 0))} 米"))
    if content.overall:
        o = content.overall
        rows.append(("车货总体", f"总质量 {tonnes(int(o.get('total_mass_kg') or 0))} 吨；"
                              f"长 {metres(int(o.get('length_mm') or 0))} 米，"
                              f"宽 {metres(int(o.get('width_mm') or 0))} 米，"
                              f"高 {metres(int(o.get('height_mm') or 0))} 米"))
    rows.append(("有效期", f"{_date_zh(content.start_date)} 至 {_date_zh(content.end_date)}"))
    rows.append(("通行方式", content.trip_label))
    return rows


def _label_rows(pdf: _Doc, rows: list[tuple[str, str]]) -> None:
    lay = pdf.layout
    pdf.set_draw_color(*RULE)
    with pdf.table(col_widths=(lay.label_width, pdf.epw - lay.label_width), first_row_as_headings=False,
                   line_height=lay.text_size * 0.55, padding=1.2 if lay is A4 else 0.8, text_align="LEFT",
                   borders_layout="ALL") as table:
        for label, value in rows:
            row = table.row()
            row.cell(label, style=_heading_style())
            row.cell(value)


def _grid(pdf: _Doc, heading: tuple[str, str], rows: list[tuple[str, str]]) -> None:
    lay = pdf.layout
    pdf.set_draw_color(*RULE)
    with pdf.table(col_widths=(lay.label_width, pdf.epw - lay.label_width),
                   line_height=lay.text_size * 0.55, padding=1.2 if lay is A4 else 0.8, text_align="LEFT",
                   borders_layout="ALL",
                   headings_style=_heading_style()) as table:
        head = table.row()
        head.cell(heading[0])
        head.cell(heading[1])
        for a, b in rows:
            r = table.row()
            r.cell(a)
            r.cell(b)


def _heading_style() -> FontFace:
    return FontFace(family=FAMILY, emphasis="", color=INK, fill_color=LABEL_FILL)


def _section(pdf: _Doc, title: str) -> None:
    lay = pdf.layout
    pdf.ln(2 if lay is A4 else 1.5)
    pdf.set_font(FAMILY, size=lay.text_size + 1)
    pdf.set_text_color(*ACCENT)
    pdf.cell(0, lay.text_size * 0.6, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*INK)
    pdf.set_font(FAMILY, size=lay.text_size)
    pdf.ln(0.8)


def _draw(pdf: _Doc, content: Content, *, applicant_name: str, url: str) -> float:
    lay = pdf.layout
    pdf.add_page()
    top = pdf.get_y()
    qr = io.BytesIO(qr_png(url))
    # Title block (with the QR code to its right on A4).
    pdf.set_font(FAMILY, size=lay.title_size)
    pdf.set_text_color(*ACCENT)
    title_w = pdf.epw - (lay.qr_size + 4 if lay.qr_beside_title else 0)
    pdf.cell(title_w, lay.title_size * 0.55, TITLE, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, size=lay.text_size)
    pdf.set_text_color(*INK)
    pdf.ln(1)
    pdf.cell(title_w, lay.text_size * 0.5, "跨省大件运输并联许可", align="C",
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    version = f"第 {content.version} 版（{REASON_LABELS.get(content.reason, content.reason)}）"
    pdf.cell(title_w, lay.text_size * 0.5, f"{version}  {_date_zh(content.made_date)}", align="C",
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if lay.qr_beside_title:
        x = pdf.w - lay.margin - lay.qr_size
        pdf.image(qr, x=x, y=top - 3, w=lay.qr_size, h=lay.qr_size)
        pdf.set_font(FAMILY, size=lay.text_size - 2)
        pdf.set_xy(x, top - 3 + lay.qr_size - 1)
        pdf.cell(lay.qr_size, 4, "扫码核验真伪", align="C")
        pdf.set_font(FAMILY, size=lay.text_size)
        pdf.set_y(max(pdf.get_y(), top + lay.qr_size + 2))
    pdf.ln(3)
    _label_rows(pdf, rows_of(content, applicant_name))

    _section(pdf, "通行路线")
    _grid(pdf, ("省份", "途经道路"),
          [(province_name(r["province"]), "—".join(r["roads"]) or "—") for r in content.route])

    _section(pdf, "通行条件")
    by_province: dict[str, list[str]] = {}
    for c in content.conditions:
        by_province.setdefault(c["province"], []).append(c["text"])
    route_provinces = list(dict.fromkeys(r["province"] for r in content.route))
    conditions = [(province_name(p), "；".join(by_province.get(p, [])) or "按规定通行，无附加条件")
                  for p in route_provinces]
    conditions += [(province_name(p), "；".join(t)) for p, t in by_province.items()
                   if p not in route_provinces]
    _grid(pdf, ("省份", "时段、车速、护送等要求"), conditions)

    pdf.ln(3)
    issuer = f"发证机关：{province_name(content.issuing_province)}公路管理机构"
    pdf.multi_cell(0, lay.text_size * 0.55, issuer, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.multi_cell(0, lay.text_size * 0.55, f"发证日期：{_date_zh(content.issue_date)}",
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if not lay.qr_beside_title:
        pdf.ln(2)
        pdf.image(qr, x=(pdf.w - lay.qr_size) / 2, w=lay.qr_size, h=lay.qr_size)
        pdf.cell(0, 4, "扫码核验真伪与当前状态", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    pdf.set_font(FAMILY, size=lay.text_size - 2)
    pdf.set_text_color(90, 90, 90)
    pdf.multi_cell(0, (lay.text_size - 2) * 0.5,
                   "本证须随车携带，按核定的车辆、路线、时间和条件通行。本证经电子签名，"
                   "可扫描二维码或访问下列地址核验真伪与当前状态（有效、已废止、已过期、"
                   "已被新版本替代）：", align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.multi_cell(0, (lay.text_size - 2) * 0.5, url.split("?", 1)[0],
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return pdf.get_y() + lay.margin


def render_pdf(content: Content, *, applicant_name: str, url: str, layout: Layout = A4,
               font: Font | None = None) -> bytes:
    """The certificate as PDF bytes; the phone layout is one page exactly as tall as needed."""
    font = font or find_font()
    made = dt.date.fromisoformat(content.made_date)
    if layout is A4:
        pdf = _Doc(layout, A4_HEIGHT, font, made)
        _draw(pdf, content, applicant_name=applicant_name, url=url)
        return bytes(pdf.output())
    probe = _Doc(layout, 2000, font, made)
    height = _draw(probe, content, applicant_name=applicant_name, url=url)
    pdf = _Doc(layout, height, font, made)
    _draw(pdf, content, applicant_name=applicant_name, url=url)
    return bytes(pdf.output())


def render_png(content: Content, *, applicant_name: str, url: str, width_px: int = 1080,
               font: Font | None = None) -> bytes:
    """The phone image: the narrow page rasterised (pypdfium2) to ``width_px`` wide, PNG."""
    import pypdfium2 as pdfium

    data = render_pdf(content, applicant_name=applicant_name, url=url, layout=PHONE, font=font)
    doc = pdfium.PdfDocument(data)
    try:
        page = doc[0]
        scale = width_px / page.get_width()
        image = page.render(scale=scale).to_pil().convert("RGB")
    finally:
        doc.close()
    # A palette keeps a mostly white page with dark text and a red title small.
    image = image.quantize(colors=64)
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True)
    return buf.getvalue()
