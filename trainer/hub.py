"""Loading a model by its Hugging Face Hub id where the Hub may be out of reach.

transformers retries a Hub request that cannot connect five times, waiting 1 to 8 s between
tries: a learner offline who named a Hub id waited about 46 s for the error. One short probe of
the Hub decides first. When the Hub does not answer, the load reads only this machine's Hugging
Face cache, so a cached model still loads at once and an uncached one fails at once, saying why.
"""

from __future__ import annotations

import time
from pathlib import Path

PROBE_TIMEOUT_S = 5.0  # a Hub on a slow link still answers a HEAD well within this
PROBE_KEPT_S = 60.0  # a tokenizer and its model load one after the other: one probe serves both
_probe: tuple[float, bool] | None = None  # (when, whether the Hub answered)


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (a Hub error runs to many), or its type's name."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class HubUnreachable(OSError):
    """The Hub did not answer and the model is not in the local cache."""


def is_local(ref: str) -> bool:
    """Whether ``ref`` names a file or folder on this machine rather than a Hub id."""
    return Path(ref).exists() or ref.startswith((".", "/"))


def _offline_by_setting() -> bool:
    """HF_HUB_OFFLINE as the Hub library read it when it was imported (it reads it only then): the
    library then looks nowhere but the cache, at once."""
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


def hub_answers() -> bool:
    """Whether the Hub's endpoint gives any HTTP answer within PROBE_TIMEOUT_S (proxies honoured)."""
    global _probe
    if _probe is not None and time.monotonic() - _probe[0] < PROBE_KEPT_S:
        return _probe[1]
    import httpx
    from huggingface_hub import constants
    from huggingface_hub.utils import get_session

    try:
        # The Hub library's own client: its proxy and certificate settings, as a download would use.
        get_session().head(constants.ENDPOINT, timeout=PROBE_TIMEOUT_S)
        answered = True
    except httpx.TransportError:  # no connection, DNS failure, time-out, proxy refused
        answered = False
    except Exception:  # a setting the probe cannot judge: let the library try, as before
        answered = True
    _probe = (time.monotonic(), answered)
    return answered


def from_pretrained(loader, ref: str, **kwargs):
    """``loader.from_pretrained(ref, **kwargs)``; from the local cache only when the Hub does not answer."""
    if is_local(ref) or _offline_by_setting() or hub_answers():
        return loader.from_pretrained(ref, **kwargs)
    from huggingface_hub import constants

    try:
        return loader.from_pretrained(ref, local_files_only=True, **kwargs)
    except OSError as exc:
        first = first_line(exc)
        raise HubUnreachable(
            f"the Hub at {constants.ENDPOINT} did not answer within {PROBE_TIMEOUT_S:g} s, and {ref!r} could not "
            f"be loaded from this machine's Hugging Face cache: {first}"
        ) from exc
