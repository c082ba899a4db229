"""What a file really is, read from its first bytes (magic numbers), never from its name or the
Content-Type the sender claimed. Pure Python: a short list of kinds a chat needs."""
import io
import re
import struct
import zipfile
from dataclasses import dataclass


@dataclass(frozen=True)
class FileType:
    key: str
    label: str
    content_type: str
    extensions: tuple[str, ...]
    is_image: bool = False  # shown inline; everything else is only ever downloaded


FILE_TYPES = {t.key: t for t in (
    FileType("png", "PNG image", "image/png", ("png",), is_image=True),
    FileType("jpeg", "JPEG image", "image/jpeg", ("jpg", "jpeg", "jpe", "jfif"), is_image=True),
    FileType("gif", "GIF image", "image/gif", ("gif",), is_image=True),
    FileType("webp", "WebP image", "image/webp", ("webp",), is_image=True),
    FileType("pdf", "PDF document", "application/pdf", ("pdf",)),
    FileType("txt", "Plain text", "text/plain; charset=utf-8", ("txt", "log", "csv", "md")),
    FileType("docx", "Word document",
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ("docx",)),
    FileType("xlsx", "Excel workbook",
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ("xlsx",)),
    FileType("zip", "ZIP archive", "application/zip", ("zip",)),
)}

# Programs, whatever they are named: ELF, Windows PE ("MZ"), Mach-O (both byte orders, fat), Java
# class files share 0xCAFEBABE with fat Mach-O, scripts with a #! line.
_EXECUTABLE_MAGIC = (b"\x7fELF", b"MZ", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe",
                     b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"#!")
# Text a browser would run or render as a page or a picture if it ever were shown inline.
_MARKUP = re.compile(rb"^\s*(<\?xml|<!doctype|<html|<svg|<script|<head|<body|<iframe|<!--)", re.IGNORECASE)
_TEXT_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Sniffed:
    file_type: FileType | None  # None: not one of FILE_TYPES
    is_executable: bool = False
    is_markup: bool = False
    width: int | None = None
    height: int | None = None


def _png_size(data: bytes):
    if data[12:16] == b"IHDR" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    return None, None


def _gif_size(data: bytes):
    return struct.unpack("<HH", data[6:10]) if len(data) >= 10 else (None, None)


def _jpeg_size(data: bytes):
    """Width and height from the first start-of-frame marker."""
    at = 2
    while at + 9 < len(data):
        if data[at] != 0xFF:
            return None, None
        marker = data[at + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # markers without a length
            at += 2
            continue
        (length,) = struct.unpack(">H", data[at + 2:at + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[at + 5:at + 9])
            return width, height
        at += 2 + length
    return None, None


def _office_or_zip(data: bytes) -> FileType:
    try:
        names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except (zipfile.BadZipFile, ValueError, EOFError):
        return FILE_TYPES["zip"]  # a ZIP header but no readable archive: still only ever downloaded
    if "[Content_Types].xml" in names:
        if any(n.startswith("word/") for n in names):
            return FILE_TYPES["docx"]
        if any(n.startswith("xl/") for n in names):
            return FILE_TYPES["xlsx"]
    return FILE_TYPES["zip"]


def _is_plain_text(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not _TEXT_CONTROL.search(data)


def sniff(data: bytes) -> Sniffed:
    if data.startswith(_EXECUTABLE_MAGIC):
        return Sniffed(None, is_executable=True)
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        width, height = _png_size(data)
        return Sniffed(FILE_TYPES["png"], width=width, height=height)
    if data.startswith(b"\xff\xd8\xff"):
        width, height = _jpeg_size(data)
        return Sniffed(FILE_TYPES["jpeg"], width=width, height=height)
    if data.startswith((b"GIF87a", b"GIF89a")):
        width, height = _gif_size(data)
        return Sniffed(FILE_TYPES["gif"], width=width, height=height)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return Sniffed(FILE_TYPES["webp"])
    if data.startswith(b"%PDF-"):
        return Sniffed(FILE_TYPES["pdf"])
    if data.startswith(b"PK\x03\x04"):
        return Sniffed(_office_or_zip(data))
    text = data.removeprefix(b"\xef\xbb\xbf")
    if _MARKUP.match(text[:1024]):
        return Sniffed(None, is_markup=True)
    if _is_plain_text(text):
        return Sniffed(FILE_TYPES["txt"])
    return Sniffed(None)


def type_for_extension(name: str) -> FileType | None:
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    return next((t for t in FILE_TYPES.values() if extension in t.extensions), None)
