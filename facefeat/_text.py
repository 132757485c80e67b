"""Words for the messages facefeat prints, shared by the library and the command line."""


def plural(n, word):
    """``n`` and ``word``, with an s unless ``n`` is 1.

    Examples
    --------
    >>> plural(1, "file"), plural(3, "hidden folder")
    ('1 file', '3 hidden folders')
    """
    return f"{n} {word}{'' if n == 1 else 's'}"
