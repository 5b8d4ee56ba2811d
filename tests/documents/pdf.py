"""The text layer of a PDF, as a reader copying it gets it: pdftotext from Debian's poppler-utils."""
from __future__ import annotations

import subprocess


def pdf_text(pdf: bytes) -> str:
    done = subprocess.run(["pdftotext", "-enc", "UTF-8", "-layout", "-", "-"], input=pdf, capture_output=True,
                          check=True, timeout=60)
    return done.stdout.decode("utf-8")


def fonts_of(pdf: bytes) -> str:
    """pdffonts' table: which fonts the PDF uses and whether they are embedded."""
    import tempfile
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(pdf)
        file.flush()
        done = subprocess.run(["pdffonts", file.name], capture_output=True, check=True, timeout=60)
    return done.stdout.decode("utf-8", errors="replace")
