"""The certificate PDF, rendered without any server: a PDF with the number
readable in it, its Chinese font embedded, the seal, and a QR code that
decodes to the public verification page."""

from __future__ import annotations

import io

import zxingcpp
from pypdf import PdfReader

from services.common import config
from services.hours.application import HoursApp
from services.hours.pdf import FONT, CertificateText, render, verify_url, wrap

TEXT = CertificateText(
    number="ZYC-61-2026-000007-K7QX",
    name="张三丰",
    id_type="resident_id",
    id_number_masked="1101**********002X",
    volunteer_number="ZY610000000007",
    hours="12.50",
    period="2026年03月02日 至 2026年11月01日",
    service_content="养老助老·重阳敬老（3.50小时）；" * 12,
    issuer_name="雁塔区志愿者协会",
    person_in_charge="王主任",
    handler="李经办",
    contact="029-88886666",
    issued_on="2026-11-23",
)


def test_the_pdf_carries_the_number_and_a_chinese_font() -> None:
    pdf = render(TEXT)
    assert pdf.startswith(b"%PDF")
    assert TEXT.number.encode() in pdf
    assert FONT.encode() in pdf
    assert pdf.rstrip().endswith(b"%%EOF")


def test_the_chinese_font_is_embedded_not_only_named() -> None:
    page = PdfReader(io.BytesIO(render(TEXT))).pages[0]
    fonts = [f.get_object() for f in page["/Resources"]["/Font"].values()]
    cjk = [f for f in fonts if FONT in str(f["/BaseFont"])]
    assert cjk, [str(f["/BaseFont"]) for f in fonts]
    for font in cjk:
        descriptor = font["/FontDescriptor"].get_object()
        program = descriptor["/FontFile2"].get_object()  # the TrueType glyphs
        assert len(program.get_data()) > 1000
    assert "STSong" not in str([f["/BaseFont"] for f in fonts])
    # The text reads back as Chinese through the embedded font's map.
    text = page.extract_text()
    assert "志愿服务记录证明" in text and TEXT.name in text
    assert "志愿服务专用章" in text  # the seal's lower line


def test_the_qr_code_decodes_to_the_verification_page() -> None:
    page = PdfReader(io.BytesIO(render(TEXT, "https://zy.example.cn/"))).pages[0]
    decoded = [
        code.text
        for image in page.images
        for code in zxingcpp.read_barcodes(image.image)
    ]
    assert decoded == ["https://zy.example.cn/console/#/verify/ZYC-61-2026-000007-K7QX"]
    assert decoded[0] == verify_url(TEXT.number, "https://zy.example.cn")


def test_long_chinese_text_wraps_inside_the_margins() -> None:
    lines = wrap("养老助老·重阳敬老（3.50小时）；" * 12, 300, 12)
    assert len(lines) > 3
    assert "".join(lines) == "养老助老·重阳敬老（3.50小时）；" * 12


def test_the_qr_address_follows_gateway_public_url() -> None:
    cfg = config.load(env={"GATEWAY_PUBLIC_URL": "https://zy.example.cn"})
    app = HoursApp(None, public_url=cfg.get("gateway.public_url", ""))  # type: ignore[arg-type]
    assert app.ctx.public_url == "https://zy.example.cn"
    assert HoursApp(None).ctx.public_url == "http://127.0.0.1:8080"  # type: ignore[arg-type]
