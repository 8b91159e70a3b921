"""Names of networks as people write and read them: one canonical slug, one display name.

:func:`display_network` is how a network's slug is shown in words ("tiktok" -> "TikTok");
a name adplan does not know is shown as given.

:func:`normalise_network` is how ingest names a network ("Facebook Ads" -> ``meta``); a plan
spec's network names are matched to the curves' networks the same way
(:func:`same_network`, ``PlanSpec.for_curves``). :func:`did_you_mean` finds the known names a
name no curve has may be a typo of, and :func:`suggestion` says them.
"""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
from collections.abc import Iterable

#: how the canonical network slugs are written for people
DISPLAY_NAMES: dict[str, str] = {
    "meta": "Meta",
    "instagram": "Instagram",
    "messenger": "Messenger",
    "audience-network": "Audience Network",
    "google": "Google",
    "youtube": "YouTube",
    "bing": "Bing",
    "x": "X",
    "tiktok": "TikTok",
    "linkedin": "LinkedIn",
    "snapchat": "Snapchat",
    "pinterest": "Pinterest",
    "reddit": "Reddit",
    "quora": "Quora",
    "amazon": "Amazon",
    "apple-search-ads": "Apple Search Ads",
}


def display_network(name: str) -> str:
    """Return the network ``name`` as people write it ("tiktok" -> "TikTok"; others as given)."""
    return DISPLAY_NAMES.get(name, name)


def group_words(kind: str, name: str) -> str:
    """Return a network, segment or period as a rule's words name it ("TikTok", "segment x").

    ``kind`` is ``networks``, ``segments`` or ``periods``; a network adplan does not know is
    written ``network <name>``.
    """
    if kind == "networks":
        return DISPLAY_NAMES.get(name, f"network {name}")
    return f"{kind[:-1]} {name}"


def line_words(key: tuple[str, str, str]) -> str:
    """Return a line as a rule's words name it: ``line TikTok/f-25-34/2027-01``."""
    network, segment, period = key
    return f"line {display_network(network)}/{segment}/{period}"


# ---------------------------------------------------------------------------------------
# slugs: how ingest (and a plan spec) names a network
# ---------------------------------------------------------------------------------------

_NETWORK_ALIASES: dict[str, str] = {
    # Meta's family. "facebook" means the Meta ads account unless the file separates the
    # platforms, in which case Instagram, Messenger and Audience Network keep their names.
    "meta": "meta",
    "meta-ads": "meta",
    "facebook": "meta",
    "facebook-ads": "meta",
    "fb": "meta",
    "fb-ads": "meta",
    "facebook-ads-manager": "meta",
    "meta-ads-manager": "meta",
    "instagram": "instagram",
    "instagram-ads": "instagram",
    "ig": "instagram",
    "messenger": "messenger",
    "audience-network": "audience-network",
    "facebook-audience-network": "audience-network",
    # Google's family
    "google": "google",
    "google-ads": "google",
    "adwords": "google",
    "google-adwords": "google",
    "google-search": "google",
    "search": "google",
    "google-display": "google",
    "google-display-network": "google",
    "google-search-network": "google",
    "search-partners": "google",
    "youtube": "youtube",
    "youtube-ads": "youtube",
    "youtube-videos": "youtube",
    "youtube-search": "youtube",
    "yt": "youtube",
    # Microsoft
    "bing": "bing",
    "bing-ads": "bing",
    "microsoft": "bing",
    "microsoft-ads": "bing",
    "microsoft-advertising": "bing",
    # X
    "x": "x",
    "x-ads": "x",
    "x-(twitter)": "x",
    "x-twitter": "x",
    "twitter": "x",
    "twitter-ads": "x",
    # the rest
    "tiktok": "tiktok",
    "tiktok-ads": "tiktok",
    "tik-tok": "tiktok",
    "linkedin": "linkedin",
    "linkedin-ads": "linkedin",
    "linked-in": "linkedin",
    "linkedin-campaign-manager": "linkedin",
    "snapchat": "snapchat",
    "snap": "snapchat",
    "snap-inc": "snapchat",
    "pinterest": "pinterest",
    "reddit": "reddit",
    "quora": "quora",
    "amazon": "amazon",
    "amazon-dsp": "amazon",
    "apple-search": "apple-search-ads",
    "apple-search-ads": "apple-search-ads",
}

#: words that name a platform's ads product rather than the platform ("Snap Ads", "LinkedIn
#: Campaign Manager", "Microsoft Advertising"): removed from the end of a name before it is
#: looked up, longest first
_PRODUCT_SUFFIXES: tuple[str, ...] = (
    "-ads-manager",
    "-campaign-manager",
    "-business-manager",
    "-marketing-solutions",
    "-for-business",
    "-advertising",
    "-adverts",
    "-ads",
    "-ad",
    "-marketing",
)


def _slug(text: str) -> str:
    """Return ``text`` as a slug: lowercase, accents kept.

    Runs of spaces, underscores, dots and slashes become one ``-``.
    """
    text = unicodedata.normalize("NFKC", str(text)).strip().casefold()
    text = re.sub(r"[\s_./]+", "-", text)
    return text.strip("-")


def normalise_network(name: str) -> str:
    """Return the network's lowercase slug: ``"Facebook Ads"`` -> ``meta``, ``"Twitter"`` -> ``x``.

    Known names and their usual spellings map to one slug (Facebook/FB/Meta -> ``meta``,
    Instagram -> ``instagram``, Google Ads/AdWords -> ``google``, Bing/Microsoft Advertising
    -> ``bing``, Twitter/X Ads -> ``x``, TikTok Ads -> ``tiktok``, Snap/Snap Ads/Snapchat Ads
    -> ``snapchat``...). A product word at the end ("Ads", "Advertising", "Ads Manager",
    "Campaign Manager") is dropped, so any other name becomes the slug of the platform
    (``"Quora Ads"`` -> ``quora``, ``"My DSP"`` -> ``my-dsp``). Raises ``ValueError`` for an
    empty name.
    """
    if name is None or (isinstance(name, float) and math.isnan(name)):
        raise ValueError("a network name is empty")
    slug = _slug(name)
    if not slug:
        raise ValueError("a network name is empty")
    if slug in _NETWORK_ALIASES:
        return _NETWORK_ALIASES[slug]
    base = slug
    for _ in range(2):  # "Facebook Ads Manager", "TikTok For Business Ads"
        for suffix in _PRODUCT_SUFFIXES:
            if base.endswith(suffix) and len(base) > len(suffix):
                base = base[: -len(suffix)]
                break
    if base in _NETWORK_ALIASES:
        return _NETWORK_ALIASES[base]
    return base


def _network_or_none(name: str) -> str | None:
    """Return :func:`normalise_network` of ``name``, or None for an empty name."""
    try:
        return normalise_network(name)
    except ValueError:
        return None


def same_network(name: str, known: Iterable[str]) -> list[str]:
    """Return the names of ``known`` that are the same network as ``name`` for ingest.

    Parameters
    ----------
    name : str
        A network name as a person wrote it (``"Facebook Ads"``, ``"twitter"``).
    known : iterable of str
        The network names to look in (the curves' networks).

    Returns
    -------
    list of str
        The names of ``known``, in their order, that :func:`normalise_network` maps where it
        maps ``name`` (``"FB"`` finds ``meta`` and ``Facebook``); empty for an empty name.
    """
    slug = _network_or_none(name)
    if slug is None:
        return []
    return [k for k in dict.fromkeys(known) if _network_or_none(k) == slug]


# ---------------------------------------------------------------------------------------
# "did you mean": the known names a name no curve has may be a typo of
# ---------------------------------------------------------------------------------------

#: the most names :func:`did_you_mean` suggests
MAX_SUGGESTIONS = 3
#: longer names are matched only loosely: difflib's cost grows with the lengths' product
_FUZZY_MAX_LEN = 200


def _loose(text: str) -> str:
    """Return ``text`` as compared loosely: its slug, numbers without leading zeros.

    ``"F 25 34"`` -> ``f-25-34``, ``"2027-1"`` and ``"2027-01"`` -> ``2027-1``.
    """
    return re.sub(r"\d+", lambda m: m.group().lstrip("0") or "0", _slug(text))


def did_you_mean(name: str, known: Iterable[str], *, networks: bool = False) -> list[str]:
    """Return up to three names of ``known`` that ``name`` may be a typo of, likeliest first.

    Parameters
    ----------
    name : str
        The name nothing has (a network, segment or period of a spec rule).
    known : iterable of str
        The names that exist.
    networks : bool, default False
        The names are networks: the known names that are the same network for ingest
        (:func:`same_network`) come first.

    Returns
    -------
    list of str
        The known names equal to ``name`` but for case, spaces, underscores, dots, slashes
        and leading zeros (``F 25 34`` -> ``f-25-34``, ``2027-1`` -> ``2027-01``); when there
        are none, the closest by :func:`difflib.get_close_matches` (``tiktk`` -> ``tiktok``).
        Empty when no known name is close; ``name`` itself is never suggested.
    """
    names = [k for k in dict.fromkeys(known) if k != name]
    first = same_network(name, names) if networks else []
    by_key: dict[str, list[str]] = {}
    for k in names:
        by_key.setdefault(_loose(k), []).append(k)
    key = _loose(name)
    found = by_key.get(key, [])
    if not found and len(key) <= _FUZZY_MAX_LEN:
        short = [k for k in by_key if len(k) <= _FUZZY_MAX_LEN]
        close = difflib.get_close_matches(key, short, n=MAX_SUGGESTIONS)
        found = [k for c in close for k in by_key[c]]
    return list(dict.fromkeys(first + found))[:MAX_SUGGESTIONS]


def suggestion(names: Iterable[str]) -> str:
    """Return ``"did you mean 'a'?"``, ``"... 'a' or 'b'?"``, ``"... 'a', 'b' or 'c'?"``.

    Parameters
    ----------
    names : iterable of str
        The suggested names (from :func:`did_you_mean`).

    Returns
    -------
    str
        The question, or ``""`` when there is no name to suggest.
    """
    quoted = [f"'{n}'" for n in names]
    if not quoted:
        return ""
    if len(quoted) == 1:
        return f"did you mean {quoted[0]}?"
    return f"did you mean {', '.join(quoted[:-1])} or {quoted[-1]}?"
