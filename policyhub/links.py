"""Which stored URLs may become links: one rule for pages, the Markdown download and any export.

URLs reach the database through the admin (whose form refuses odd schemes), imports and the ORM;
the pages must not rely on the first. Only http, https and mailto URLs, and site-relative paths,
are linked. Anything else (`javascript:`, `data:`, `vbscript:`, ...) is shown as text.
"""

from urllib.parse import urlsplit

LINKABLE_SCHEMES = frozenset({"http", "https", "mailto"})
# Browsers drop these anywhere in a URL before reading its scheme ("java\tscript:" runs).
_IGNORED_BY_BROWSERS = {ord(c): None for c in "\t\n\r"}


def safe_url(value) -> str:
    """`value` if it is safe to link to, else "" (so templates fall back to plain text)."""
    url = str(value or "").translate(_IGNORED_BY_BROWSERS).strip("\x00 \x0c\x0b")
    if not url:
        return ""
    scheme = urlsplit(url).scheme.lower()
    if scheme:
        return url if scheme in LINKABLE_SCHEMES else ""
    # No scheme: only a site path; "//host" and "/\\host" lead to another site.
    return url if url.startswith("/") and not url.startswith(("//", "/\\")) else ""
