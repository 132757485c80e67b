"""Plots of a video's analysis: each face track's expression over time."""

import numpy as np

from facefeat.plots._figure import new_figure

__all__ = ["plot_timeline"]


def plot_timeline(records, *, track=None):
    """Class probabilities, valence and arousal of one face track over a video's time.

    Parameters
    ----------
    records : list of dict
        Records of :func:`facefeat.analysis.analyze.analyze_video`.
    track : int, optional
        The track to draw; default the one seen in most frames.

    Returns
    -------
    matplotlib.figure.Figure
        Two panels sharing the time axis: the probability of each class (top)
        and valence and arousal (bottom). Sampled frames where the track was
        not seen are gaps in the lines, and shaded.

    Raises
    ------
    ValueError
        No record has a face track (no face was found in the video), or
        ``track`` is not one of them.

    Examples
    --------
    >>> records = [{"time_s": t, "track": 0, "face_found": True, "proba": {"happiness": p, "sadness": 1 - p},
    ...             "valence": p - 0.5, "arousal": 0.1} for t, p in [(0.0, 0.2), (0.5, 0.6), (1.0, 0.9)]]
    >>> records.insert(2, {"time_s": 0.75, "track": None, "face_found": False, "proba": None})
    >>> fig = plot_timeline(records)
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['happiness', 'sadness']
    >>> fig.axes[0].get_lines()[0].get_ydata().tolist()
    [0.2, 0.6, nan, 0.9]
    """
    times = sorted({r["time_s"] for r in records})
    counts = {}
    for r in records:
        if r.get("track") is not None:
            counts[r["track"]] = counts.get(r["track"], 0) + 1
    if not counts:
        raise ValueError("no face track to draw: no face was found in the video")
    if track is None:
        track = max(counts, key=counts.get)
    elif track not in counts:
        raise ValueError(f"no track {track!r}; the tracks are {sorted(counts)}")
    at = {r["time_s"]: r for r in records if r.get("track") == track}
    classes = list(next(iter(at.values()))["proba"])
    t = np.array(times)

    def series(get):
        return np.array([get(at[s]) if s in at else np.nan for s in times], dtype=float)

    fig = new_figure((8.2, 4.8))
    top, bottom = fig.subplots(2, 1, sharex=True)
    for k, name in enumerate(classes):
        top.plot(t, series(lambda r: r["proba"][name]), color=f"C{k % 10}", label=name)
    top.set_ylabel("probability")
    top.set_ylim(0, 1)
    top.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    top.set_title(f"face track {track}: {counts[track]} of {len(times)} sampled frames")
    bottom.plot(t, series(lambda r: np.nan if r["valence"] is None else r["valence"]), label="valence")
    bottom.plot(t, series(lambda r: np.nan if r["arousal"] is None else r["arousal"]), label="arousal")
    bottom.axhline(0, color="0.75", lw=0.8)
    bottom.set_ylim(-1, 1)
    bottom.set_xlabel("time (s)")
    bottom.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    half = np.median(np.diff(t)) / 2 if len(t) > 1 else 0.5
    for ax in (top, bottom):
        for s in times:
            if s not in at:  # the sample's share of the time axis
                ax.axvspan(s - half, s + half, color="0.9", lw=0, zorder=0)
    return fig
