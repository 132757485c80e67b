"""MkDocs hook: render the Sphinx roles of the numpydoc docstrings.

The docstrings follow scikit-image's style, written for Sphinx:
``:class:`~facefeat.faces.batch.FaceBatch```, ``:DOI:`10.1109/...```, ``[1]_``.
mkdocstrings renders them as Markdown, where a role arrives as its name
followed by inline code. This hook, run on each page's HTML, turns DOIs into
links to doi.org, drops the other role names (keeping the code), shortens
``~``-prefixed paths to their last component as Sphinx does, and removes
the trailing underscore of citation references and the ``..`` of the
reference entries.
"""

import re

_DOI = re.compile(r":DOI:<code>(10\.[^<\s]+)</code>")
_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|attr|mod|data|obj|exc|ref|term):<code>(~?)([^<]+)</code>")
_CITATION = re.compile(r"(\[\d+\])_")
# ".. [1] Author..." entries of a References section, one paragraph each in the HTML
_REFERENCE = re.compile(r"(<p>|\n)\s*\.\. (\[\d+\])")


def _role(match):
    tilde, target = match.groups()
    return f"<code>{target.rsplit('.', 1)[-1] if tilde else target}</code>"


def on_page_content(html, page, config, files):
    html = _DOI.sub(r'<a href="https://doi.org/\1">doi:\1</a>', html)
    html = _ROLE.sub(_role, html)
    html = _REFERENCE.sub(lambda m: ("<p>" if m.group(1) == "<p>" else "<br>") + m.group(2), html)
    return _CITATION.sub(r"\1", html)
