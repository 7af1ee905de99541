"""QR codes drawn on the server as SVG (segno: pure Python, no image libraries, no network)."""

import segno


def qr_svg(url: str, title: str | None = None) -> str:
    """An inline <svg> QR code (medium error correction) for a URL, labelled for screen readers."""
    code = segno.make(url, error="m", micro=False)
    svg = code.svg_inline(
        scale=1,
        border=2,
        dark="#000",
        light="#fff",
        title=title,
        svgclass="qr",
        lineclass=None,
        omitsize=True,
    )
    return svg.replace("<svg ", '<svg role="img" ', 1)
