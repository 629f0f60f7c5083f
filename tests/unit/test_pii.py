"""Personal data: AES-GCM at rest, blind indexes, masking, phone numbers."""

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common.errors import InvalidArgument
from services.common.pii import (
    PiiCipher,
    PiiDecryptionError,
    PiiKeyError,
    mask_id_number,
    mask_name,
    mask_phone,
    validate_phone,
)

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
CTX = "volunteer.id_number"
cipher = PiiCipher(KEY)


@pytest.mark.parametrize("size", [0, 16, 31, 33, 64])
def test_wrong_key_length_is_refused(size):
    with pytest.raises(PiiKeyError, match=f"exactly 32 bytes, got {size}"):
        PiiCipher(bytes(size))


def test_non_bytes_key_is_refused():
    with pytest.raises(PiiKeyError):
        PiiCipher("k" * 32)  # type: ignore[arg-type]


def test_from_base64_accepts_a_secret_with_a_trailing_newline():
    encoded = base64.b64encode(KEY).decode() + "\n"
    restored = PiiCipher.from_base64(encoded)
    assert restored.decrypt(cipher.encrypt("x", context=CTX), context=CTX) == "x"


def test_from_base64_reports_length_and_never_the_key():
    encoded = base64.b64encode(b"s3cr3t-but-too-short").decode()
    with pytest.raises(PiiKeyError, match="got 20") as caught:
        PiiCipher.from_base64(encoded)
    assert encoded not in str(caught.value)


def test_from_base64_rejects_garbage():
    with pytest.raises(PiiKeyError, match="base64") as caught:
        PiiCipher.from_base64("not base64 at all!!")
    assert "not base64 at all" not in str(caught.value)


def test_blob_layout_and_random_nonce():
    first = cipher.encrypt("11010519491231002X", context=CTX)
    second = cipher.encrypt("11010519491231002X", context=CTX)
    assert first[0] == 1
    assert len(first) == 1 + 12 + 18 + 16
    assert first != second
    assert b"11010519491231002X" not in first


def test_wrong_context_fails():
    blob = cipher.encrypt("13812345678", context="volunteer.phone")
    with pytest.raises(PiiDecryptionError, match="wrong context"):
        cipher.decrypt(blob, context="guardian.phone")


def test_wrong_key_fails():
    blob = cipher.encrypt("13812345678", context=CTX)
    with pytest.raises(PiiDecryptionError):
        PiiCipher(OTHER_KEY).decrypt(blob, context=CTX)


def test_every_tampered_byte_is_detected():
    blob = cipher.encrypt("13812345678", context=CTX)
    for i in range(1, len(blob)):
        tampered = blob[:i] + bytes([blob[i] ^ 0x01]) + blob[i + 1 :]
        with pytest.raises(PiiDecryptionError):
            cipher.decrypt(tampered, context=CTX)


def test_truncated_and_unknown_version_blobs():
    blob = cipher.encrypt("x", context=CTX)
    with pytest.raises(PiiDecryptionError, match="too short"):
        cipher.decrypt(blob[:20], context=CTX)
    with pytest.raises(PiiDecryptionError, match="unknown key version 9"):
        cipher.decrypt(bytes([9]) + blob[1:], context=CTX)


def test_rotation_keeps_old_data_readable():
    old_blob = cipher.encrypt("张三", context=CTX)
    rotated = PiiCipher(OTHER_KEY, version=2, retired_keys={1: KEY})
    assert rotated.version == 2
    assert rotated.decrypt(old_blob, context=CTX) == "张三"
    new_blob = rotated.encrypt("李四", context=CTX)
    assert new_blob[0] == 2
    assert rotated.decrypt(new_blob, context=CTX) == "李四"
    with pytest.raises(PiiDecryptionError):
        cipher.decrypt(new_blob, context=CTX)


@pytest.mark.parametrize(
    "kwargs",
    [{"version": 0}, {"version": 256}, {"version": 1, "retired_keys": {1: OTHER_KEY}}],
)
def test_bad_versions_are_refused(kwargs):
    with pytest.raises(PiiKeyError):
        PiiCipher(KEY, **kwargs)


def test_bad_retired_key_is_refused():
    with pytest.raises(PiiKeyError):
        PiiCipher(KEY, version=2, retired_keys={1: b"short"})


def test_empty_context_is_refused():
    with pytest.raises(ValueError):
        cipher.encrypt("x", context="")
    with pytest.raises(ValueError):
        cipher.blind_index("x", context="")


def test_blind_index_normalises_and_separates():
    index = cipher.blind_index("11010519491231002X", context=CTX)
    assert len(index) == 64 and int(index, 16) >= 0
    assert cipher.blind_index(" 11010519491231002x ", context=CTX) == index
    assert (
        cipher.blind_index("１１０１０５１９４９１２３１００２Ｘ", context=CTX) == index
    )
    assert cipher.blind_index("11010519491231002X", context="guardian.id") != index
    assert PiiCipher(OTHER_KEY).blind_index("11010519491231002X", context=CTX) != index


def test_masks():
    assert mask_id_number("11010519491231002X") == "1101**********002X"
    assert mask_id_number("110105491231002") == "1101*******1002"
    assert mask_id_number("12345678") == "********"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("1381234") == "*******"
    assert mask_name("张三丰") == "张**"
    assert mask_name("李四") == "李*"
    assert mask_name("王") == "*"
    assert mask_name("") == ""


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13812345678", "13812345678"),
        (" 199 1234 5678 ", "19912345678"),
        ("+86 138-1234-5678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
    ],
)
def test_validate_phone_normalises(raw, expected):
    assert validate_phone(raw) == expected


@pytest.mark.parametrize(
    "raw", ["12812345678", "10812345678", "1381234567", "138123456789", "1381234567a"]
)
def test_validate_phone_rejects(raw):
    with pytest.raises(InvalidArgument) as caught:
        validate_phone(raw, field="contact_phone")
    assert caught.value.field == "contact_phone"
    assert caught.value.rule == "phone.format"


def test_validate_phone_requires_a_value():
    with pytest.raises(InvalidArgument) as caught:
        validate_phone("  ")
    assert caught.value.rule == "phone.required"


@given(st.text(), st.text(min_size=1, max_size=40))
def test_encrypt_decrypt_round_trip(plaintext, context):
    assert cipher.decrypt(
        cipher.encrypt(plaintext, context=context), context=context
    ) == (plaintext)


@given(
    st.text(max_size=40),
    st.text(min_size=1, max_size=20),
    st.text(min_size=1, max_size=20),
)
def test_blind_index_deterministic_and_context_bound(value, ctx_a, ctx_b):
    first = cipher.blind_index(value, context=ctx_a)
    assert first == cipher.blind_index(value, context=ctx_a)
    if ctx_a != ctx_b:
        assert first != cipher.blind_index(value, context=ctx_b)


@given(st.text(alphabet="0123456789X", min_size=15, max_size=18))
def test_mask_id_number_never_reveals_the_middle(number):
    masked = mask_id_number(number)
    assert len(masked) == len(number)
    assert masked[4:-4] == "*" * (len(number) - 8)
    assert masked[:4] == number[:4] and masked[-4:] == number[-4:]


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_mask_phone_hides_the_middle_four(phone):
    masked = mask_phone(validate_phone(phone))
    assert masked == phone[:3] + "****" + phone[-4:]


@given(
    st.lists(st.text(max_size=40), max_size=20),
    st.text(min_size=1, max_size=30),
)
def test_batch_methods_give_what_one_at_a_time_gives(values, context):
    """encrypt_many and blind_index_many (bulk imports): each blob opens
    under the context as encrypt's does, each with its own nonce; each
    blind index equals blind_index's (full-width input normalised alike)."""
    sealed = cipher.encrypt_many(values, context=context)
    assert [cipher.decrypt(b, context=context) for b in sealed] == values
    assert all(b[0] == cipher.version for b in sealed)
    assert len({b[1:13] for b in sealed}) == len(sealed)
    assert cipher.blind_index_many(values, context=context) == [
        cipher.blind_index(v, context=context) for v in values
    ]


def test_batch_methods_refuse_an_empty_context_and_use_the_current_key():
    with pytest.raises(ValueError, match="context"):
        cipher.encrypt_many(["x"], context="")
    with pytest.raises(ValueError, match="context"):
        cipher.blind_index_many(["x"], context="")
    rotated = PiiCipher(OTHER_KEY, version=2, retired_keys={1: KEY})
    (blob,) = rotated.encrypt_many(["１１０１ｘ"], context=CTX)
    assert blob[0] == 2 and rotated.decrypt(blob, context=CTX) == "１１０１ｘ"
    assert rotated.blind_index_many([" １１０１ｘ "], context=CTX) == [
        rotated.blind_index("1101X", context=CTX)
    ]
