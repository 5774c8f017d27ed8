"""Encryption at rest for big files: what goes in comes out byte for byte, and nothing altered gets out."""

import io
import os

import pytest
from cryptography.fernet import Fernet

from dsr.encrypted_files import CHUNK, EncryptedFileError, EncryptingWriter, decrypt_stream
from dsr.encryption import Cipher


def encrypt(plaintext: bytes, key: bytes, pieces: int = 7) -> bytes:
    target = io.BytesIO()
    writer = EncryptingWriter(target, key)
    step = max(1, len(plaintext) // pieces)
    for start in range(0, len(plaintext), step):
        writer.write(plaintext[start : start + step])
    writer.close()
    return target.getvalue()


def decrypt(ciphertext: bytes, keys: list[bytes]) -> bytes:
    return b"".join(decrypt_stream(io.BytesIO(ciphertext), keys))


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 123])
def test_round_trip_is_byte_identical(size):
    key, plaintext = os.urandom(32), os.urandom(size)
    ciphertext = encrypt(plaintext, key)
    assert size < 64 or plaintext[:64] not in ciphertext
    assert decrypt(ciphertext, [key]) == plaintext


def test_two_encryptions_of_the_same_file_differ():
    key = os.urandom(32)
    assert encrypt(b"same bundle", key) != encrypt(b"same bundle", key)


@pytest.mark.parametrize(
    "damage",
    [
        lambda c: c[:-1],  # cut inside the last chunk
        lambda c: c[: 32 + 4 + CHUNK + 16],  # cut exactly after the first chunk
        lambda c: c + c[32:],  # chunks appended
        lambda c: c[:100] + bytes([c[100] ^ 0x80]) + c[101:],  # one bit flipped in a chunk
        lambda c: c[:20] + bytes([c[20] ^ 1]) + c[21:],  # the header's salt changed
        lambda c: c[:32] + c[32 + 4 + CHUNK + 16 :],  # the first chunk removed
        lambda c: c[:32],  # nothing but the header
    ],
)
def test_tampered_files_are_refused(damage):
    key = os.urandom(32)
    ciphertext = encrypt(os.urandom(2 * CHUNK + 10), key)
    with pytest.raises(EncryptedFileError):
        decrypt(damage(ciphertext), [key])


def test_files_stay_readable_after_the_keys_are_rotated():
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    before = Cipher.from_config({"DSR_ENCRYPTION_KEYS": old_key})
    after = Cipher.from_config({"DSR_ENCRYPTION_KEYS": f"{new_key},{old_key}"})  # newest first
    ciphertext = encrypt(b"bundle written last year", before.file_keys()[0])
    assert decrypt(ciphertext, after.file_keys()) == b"bundle written last year"
    with pytest.raises(EncryptedFileError, match="no longer configured"):
        decrypt(ciphertext, Cipher.from_config({"DSR_ENCRYPTION_KEYS": new_key}).file_keys())
    with pytest.raises(EncryptedFileError, match="not an encrypted DSR Desk file"):
        decrypt(b"PK\x03\x04 a plain zip", before.file_keys())
