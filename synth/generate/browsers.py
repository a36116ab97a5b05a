"""Browsers: the mix of agent templates, each visitor's recipe (family, how far behind, draws),
and the agent text of a recipe on any date, so that no line carries a version released after it."""

from __future__ import annotations

import datetime as dt

import numpy as np

from synth.generate import catalog
from synth.generate.draws import cdf as _cdf
from synth.generate.draws import pick
from synth.generate.shape import NO_SHAPE, Shape


def _mobile(template: str) -> bool:
    return any(mark in template for mark in ("Mobile", "iPad", "iPhone", "Android"))


def browser_family(template: str) -> str:
    """The family of a browser's agent, as synth fit tells it (synth.analysis.fitagents)."""
    for name, marks in (("edge", ("Edg/", "Edge/")), ("samsung", ("SamsungBrowser",)), ("firefox", ("Firefox/", "FxiOS")),
                        ("chrome", ("Chrome/", "CriOS"))):
        if any(m in template for m in marks):
            return name
    return "safari"


def browser_system(template: str) -> str:
    """The system of a browser's agent, as synth fit tells it."""
    for name, marks in (("ios", ("iPhone", "iPad", "iPod")), ("android", ("Android",)), ("windows", ("Windows",)),
                        ("macos", ("Macintosh", "Mac OS X")), ("linux", ("Linux", "X11"))):
        if any(m in template for m in marks):
            return name
    return "other"


def browser_shares(mobile_share: float | None = None, shape: Shape = NO_SHAPE) -> np.ndarray:
    """Each browser template's share; with ``mobile_share``, phones and tablets scaled to it;
    with the shape's ``browsers`` or ``systems``, raked (iterative proportional fitting) until
    the families, the systems and the mobile share each meet the ones given. A mix the
    catalogue cannot make (Samsung's browser is only on phones) comes as near as it can."""
    shares = np.array([share for share, _ in catalog.BROWSERS])
    mobile = np.array([_mobile(t) for _, t in catalog.BROWSERS])
    if shape.browsers is None and shape.systems is None:
        if mobile_share is None:
            return shares
        return np.where(mobile, shares / shares[mobile].sum() * mobile_share,
                        shares / shares[~mobile].sum() * (1.0 - mobile_share))
    margins = []
    for given, of in ((shape.browsers, browser_family), (shape.systems, browser_system)):
        if given is not None:
            group = np.array([of(t) for _, t in catalog.BROWSERS])
            margins.append([(group == name, share) for name, share in given] + [(~np.isin(group, [n for n, _ in given]), 0.0)])
    if mobile_share is not None:
        margins.append([(mobile, mobile_share), (~mobile, 1.0 - mobile_share)])
    w = shares / shares.sum()
    for _ in range(200):
        for margin in margins:
            for where, target in margin:
                total = w[where].sum()
                if total > 0:
                    w[where] *= target / total
            w = w / w.sum()
    return w


def browser_recipes(rng: np.random.Generator, n: int, mobile_share: float | None = None,
                    shape: Shape = NO_SHAPE) -> tuple[np.ndarray, np.ndarray]:
    """``n`` browsers as recipes: a family by market share (phones and tablets scaled to
    ``mobile_share`` when given, families and systems to the shape's), how many releases
    behind, and draws of minor version, phone model and build. Returns the distinct recipes
    (rows of family, lag, minor, model, build) and, for each of the ``n``, the index of its recipe."""
    family = pick(rng, _cdf(browser_shares(mobile_share, shape)), n)
    lag = pick(rng, _cdf(np.array([0.55, 0.25, 0.12, 0.08])), n)
    minor = rng.integers(0, 4, n)
    model = rng.integers(0, 4, n)
    build = rng.integers(0, 3, n)  # a few builds per release: agents repeat, as on a real site
    # One integer per combination, so that finding the distinct ones is a plain sort.
    code = (((family * 4 + lag) * 4 + minor) * 4 + model) * 3 + build
    codes, which = np.unique(code, return_inverse=True)
    rows = []
    for c in codes.tolist():
        c, bd = divmod(c, 3)
        c, md = divmod(c, 4)
        c, mn = divmod(c, 4)
        f, lg = divmod(c, 4)
        rows.append((f, lg, mn, md, bd))
    return np.array(rows, np.int64).reshape(-1, 5), which.ravel()


def _written_draws(templates: list[str]) -> np.ndarray:
    """Per browser family, which of a recipe's draws (minor, model, build) its agent writes:
    recipes that differ only in draws the agent does not write have the same text."""
    return np.array([("{safari}" in t or "{ios}" in t, "{samsung_model}" in t, "{edge_build}" in t)
                     for t in templates], np.int64).reshape(-1, 3)


def recipe_text_table(recipes: np.ndarray, versions: dict[str, int]) -> tuple[list[str], np.ndarray]:
    """The distinct agents of ``recipes`` on the day of ``versions``, in the order they first
    appear, and for each recipe the index of its text. Each distinct text is written once: a
    run over years fills (periods x distinct texts) agents, not (periods x recipes)."""
    templates = [t for _, t in catalog.BROWSERS]
    if len(recipes) == 0:
        return [], np.zeros(0, np.int64)
    keys = recipes.copy()
    keys[:, 2:] *= _written_draws(templates)[keys[:, 0]]
    unique, first, back = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order))
    texts = []
    for f, lg, mn, md, bd in unique[order].tolist():
        text = None
        # A browser that did not exist yet (Edge before 2015) is the most common one of the
        # day instead (Chrome, else Firefox); neither writes the draws zeroed above.
        for family in (f, 0, 2):
            text = catalog.fill_browser(templates[family], versions, lg, mn, md, bd)
            if text is not None:
                break
        texts.append(text or "Mozilla/5.0 (Windows NT 6.1; rv:2.0) Gecko/20100101 Firefox/4.0")
    return texts, rank[back.ravel()]


def recipe_texts(recipes: np.ndarray, versions: dict[str, int]) -> list[str]:
    """The agent of each recipe on the day of ``versions``."""
    texts, which = recipe_text_table(recipes, versions)
    return [texts[i] for i in which.tolist()]


def browser_agents(rng: np.random.Generator, n: int, versions: dict[str, int]) -> tuple[list[str], np.ndarray]:
    """``n`` browser agents: a family by market share, versions spread over the last releases.

    Returns the distinct agent texts and, for each of the ``n``, the index of its text.
    """
    recipes, which = browser_recipes(rng, n)
    return recipe_texts(recipes, versions), which


def release_days(first: dt.date, last: dt.date) -> list[dt.date]:
    """The days from ``first`` to ``last`` on which a browser or OS version changes: each
    starts a period whose lines carry that day's versions (first is always one)."""
    days, current = [first], catalog.browser_versions(first)
    day = first
    while day < last:
        day += dt.timedelta(days=1)
        versions = catalog.browser_versions(day)
        if {k: v for k, v in versions.items() if k != "day"} != {k: v for k, v in current.items() if k != "day"}:
            days.append(day)
            current = versions
    return days
