"""The certificate as a PDF (志愿服务记录证明), with the contents the Measures
for Volunteer Service Records and Certificates list: name, ID type and
masked number, volunteer number, hours and service content, issuer, person
in charge, handler, contact, certificate number and date.

Chinese text is set in WenQuanYi Micro Hei, a TrueType font shipped by the
pinned PyPI package ``paperang-p2-fonts-cjk``: reportlab embeds the subset of
glyphs the page uses, so the certificate reads the same on a reader without
Chinese fonts (the built-in CID font STSong-Light was only named, never
embedded). The page carries the issuer's seal (the image the office
uploaded, else one drawn from its name), the optional training and awards
the volunteer asked for (from the records), and a QR code of the public
verification page's address (``verify_url``). The number is also drawn in
Helvetica and set as the document title: a reader, or a test, finds it
without decoding the embedded font.

Example::

    pdf = render(CertificateText(number="ZYC-61-2026-000001-K7QX", ...))
    assert pdf.startswith(b"%PDF")
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from urllib.parse import quote

import segno
from reportlab.lib.colors import Color
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

FONT, LATIN = "WenQuanYiMicroHei", "Helvetica"
FONT_FILE = files("paperang_p2_fonts_cjk") / "fonts" / "wqy-microhei.ttc"
ID_TYPES = {"resident_id": "居民身份证"}
SEAL_RED = Color(0.78, 0.08, 0.08, alpha=0.85)
# Where the gateway serves the console unless the deployment says otherwise
# (gateway.public_url).
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8080"


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
    # The issuer's uploaded seal (PNG or JPEG); None draws the platform's.
    seal_image: bytes | None = None
    # Optional sections the volunteer asked for: training and awards, one
    # line each, drawn from activity's and commendation's records
    # (certificate_lines) and kept on the certificate.
    training: tuple[str, ...] = ()
    awards: tuple[str, ...] = ()


def verify_url(number: str, public_url: str = DEFAULT_PUBLIC_URL) -> str:
    """The public verification page of a certificate (no login needed).

    Example::

        verify_url("ZYC-61-2026-000001-K7QX", "https://zy.example.cn")
        # 'https://zy.example.cn/console/#/verify/ZYC-61-2026-000001-K7QX'
    """
    return f"{public_url.rstrip('/')}/console/#/verify/{quote(number, safe='')}"


@cache
def _font() -> None:
    # The first face of the collection (Micro Hei; the second is its
    # monospaced twin). Registered once per process.
    with FONT_FILE.open("rb") as f:
        pdfmetrics.registerFont(TTFont(FONT, io.BytesIO(f.read()), subfontIndex=0))


def wrap(text: str, width: float, size: float) -> list[str]:
    """Split text into lines no wider than ``width`` points (CJK text has
    no spaces to break at, so this breaks between any two characters)."""
    _font()
    lines, line = [], ""
    for char in text:
        if pdfmetrics.stringWidth(line + char, FONT, size) > width and line:
            lines.append(line)
            line = ""
        line += char
    return [*lines, line] if line else lines


def qr_png(url: str) -> bytes:
    """The QR code of ``url`` as a PNG (error correction M, quiet zone 4)."""
    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(out, kind="png", scale=6, border=4)
    return out.getvalue()


def render(c: CertificateText, public_url: str = DEFAULT_PUBLIC_URL) -> bytes:
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
    for title, entries in (("参加培训", c.training), ("获得表彰", c.awards)):
        if entries:
            y = _paragraph(pdf, f"{title}：{'；'.join(entries)}", left, right, y, 12)
            y -= 10
    y = _paragraph(pdf, "特此证明。", left, right, y, 13)
    y -= 30
    signed_top = y
    for label, value in (
        ("出具单位", c.issuer_name),
        ("负责人", c.person_in_charge),
        ("经办人", c.handler),
        ("联系方式", c.contact),
        ("证明编号", c.number),
        ("出具日期", c.issued_on),
    ):
        y = _paragraph(pdf, f"{label}：{value}", left + 220, right, y, 12)
    # The seal over the issuer's lines, as a stamp sits on a paper one.
    cx, cy = right - 80, (signed_top + y) / 2 + 6
    if c.seal_image:
        pdf.drawImage(
            ImageReader(io.BytesIO(c.seal_image)), cx - 60, cy - 60, 120, 120,
            mask="auto", preserveAspectRatio=True, anchor="c",
        )  # fmt: skip
    else:
        _seal(pdf, c.issuer_name, cx, cy, 56)
    y -= 24
    url = verify_url(c.number, public_url)
    size = 96.0
    pdf.drawImage(ImageReader(io.BytesIO(qr_png(url))), left, y - size, size, size)
    _paragraph(
        pdf,
        "本证明免费出具。可扫描左侧二维码，或凭证明编号在志愿服务信息系统核验真伪：",
        left + size + 12,
        right,
        y - 18,
        10,
    )
    pdf.setFont(LATIN, 8)
    pdf.drawString(left + size + 12, y - 52, url)
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def _seal(pdf: canvas.Canvas, issuer: str, cx: float, cy: float, r: float) -> None:
    """A round red seal: the issuer's name along the upper rim, a star in
    the middle and 志愿服务专用章 below it."""
    pdf.saveState()
    pdf.setStrokeColor(SEAL_RED)
    pdf.setFillColor(SEAL_RED)
    pdf.setLineWidth(2.5)
    pdf.circle(cx, cy, r, stroke=1, fill=0)
    star = pdf.beginPath()
    for i in range(10):
        radius = 15.0 if i % 2 == 0 else 6.0
        angle = math.pi / 2 + i * math.pi / 5
        point = (cx + radius * math.cos(angle), cy + 4 + radius * math.sin(angle))
        if i == 0:
            star.moveTo(*point)
        else:
            star.lineTo(*point)
    star.close()
    pdf.drawPath(star, stroke=0, fill=1)
    name = issuer[:16] or "志愿服务"
    size = 11.0 if len(name) <= 12 else 9.0
    span = min(math.radians(220), math.radians(19) * len(name))
    for i, char in enumerate(name):
        # From the left of the rim over the top to the right, upright to it.
        step = span / max(len(name) - 1, 1)
        angle = math.pi / 2 + span / 2 - i * step
        pdf.saveState()
        pdf.translate(cx + (r - 14) * math.cos(angle), cy + (r - 14) * math.sin(angle))
        pdf.rotate(math.degrees(angle) - 90)
        pdf.setFont(FONT, size)
        pdf.drawCentredString(0, -size / 3, char)
        pdf.restoreState()
    pdf.setFont(FONT, 8)
    pdf.drawCentredString(cx, cy - 26, "志愿服务专用章")
    pdf.restoreState()


def _paragraph(
    pdf: canvas.Canvas, text: str, left: float, right: float, y: float, size: float
) -> float:
    pdf.setFont(FONT, size)
    for line in wrap(text, right - left, size):
        pdf.drawString(left, y, line)
        y -= size * 1.6
    return y
