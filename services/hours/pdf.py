"""The certificate as a PDF (志愿服务记录证明), with the contents the Measures
for Volunteer Service Records and Certificates list: name, ID type and
masked number, volunteer number, hours and service content, issuer, person
in charge, handler, contact, certificate number and date.

Chinese text uses reportlab's built-in CID font STSong-Light, so no font
file ships with the image. The number is also drawn in Helvetica and set as
the document title: a reader, or a test, finds it without decoding CID text.

Example::

    pdf = render(CertificateText(number="ZYC-61-2026-000001-K7QX", ...))
    assert pdf.startswith(b"%PDF")
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

FONT, LATIN = "STSong-Light", "Helvetica"
ID_TYPES = {"resident_id": "居民身份证"}
_registered = False


@dataclass(frozen=True)
class CertificateText:
    number: str
    name: str
    id_type: str
    id_number_masked: str
    volunteer_number: str
    hours: str
    period: str
    service_content: str
    issuer_name: str
    person_in_charge: str
    handler: str
    contact: str
    issued_on: str


def _font() -> None:
    global _registered
    if not _registered:  # registering twice is harmless, but not free
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
        _registered = True


def wrap(text: str, width: float, size: float) -> list[str]:
    """Split text into lines no wider than ``width`` points (CJK text has
    no spaces to break at, so this breaks between any two characters)."""
    lines, line = [], ""
    for char in text:
        if pdfmetrics.stringWidth(line + char, FONT, size) > width and line:
            lines.append(line)
            line = ""
        line += char
    return [*lines, line] if line else lines


def render(c: CertificateText) -> bytes:
    """One A4 page; uncompressed, so the number is plain text in the file."""
    _font()
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, pageCompression=0)
    pdf.setTitle(f"志愿服务记录证明 {c.number}")
    pdf.setSubject(c.number)
    pdf.setAuthor(c.issuer_name)
    width, height = A4
    left, right, y = 72.0, width - 72.0, height - 90.0
    pdf.setFont(FONT, 22)
    pdf.drawCentredString(width / 2, y, "志愿服务记录证明")
    y -= 30
    pdf.setFont(LATIN, 10)
    pdf.drawRightString(right, y, f"No. {c.number}")
    y -= 36
    id_type = ID_TYPES.get(c.id_type, c.id_type)
    body = (
        f"兹证明 {c.name}（证件类型：{id_type}，证件号码：{c.id_number_masked}，"
        f"志愿者编号：{c.volunteer_number}）于 {c.period} 期间参加志愿服务，"
        f"经本单位记录，累计志愿服务时长 {c.hours} 小时。"
    )
    y = _paragraph(pdf, body, left, right, y, 13)
    y -= 10
    y = _paragraph(pdf, f"服务内容：{c.service_content}", left, right, y, 12)
    y -= 10
    y = _paragraph(pdf, "特此证明。", left, right, y, 13)
    y -= 30
    for label, value in (
        ("出具单位", c.issuer_name),
        ("负责人", c.person_in_charge),
        ("经办人", c.handler),
        ("联系方式", c.contact),
        ("证明编号", c.number),
        ("出具日期", c.issued_on),
    ):
        y = _paragraph(pdf, f"{label}：{value}", left + 220, right, y, 12)
    y -= 24
    _paragraph(
        pdf,
        "本证明免费出具。可凭证明编号在志愿服务信息系统核验真伪。",
        left,
        right,
        y,
        10,
    )
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def _paragraph(
    pdf: canvas.Canvas, text: str, left: float, right: float, y: float, size: float
) -> float:
    pdf.setFont(FONT, size)
    for line in wrap(text, right - left, size):
        pdf.drawString(left, y, line)
        y -= size * 1.6
    return y
