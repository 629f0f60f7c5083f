"""The certificate PDF, rendered without any server: a PDF with the number
readable in it and Chinese text in the built-in CID font."""

from __future__ import annotations

from services.hours.pdf import FONT, CertificateText, render, wrap

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


def test_long_chinese_text_wraps_inside_the_margins() -> None:
    lines = wrap("养老助老·重阳敬老（3.50小时）；" * 12, 300, 12)
    assert len(lines) > 3
    assert "".join(lines) == "养老助老·重阳敬老（3.50小时）；" * 12
