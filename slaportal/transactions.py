"""Work to do once the current transaction has committed."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial, update_wrapper

from django.db import transaction


def after_commit(func: Callable[..., object], *args: object) -> None:
    """Call ``func(*args)`` once the current transaction commits (at once outside one),
    robustly: an exception — a broker down when a task is dispatched — is logged and
    never reaches the caller, whose change has committed. Whatever is dispatched this
    way must also be found again by a periodic job, since the dispatch can be lost.

    Why not ``on_commit(partial(func, *args), robust=True)``: Django 5.2 logs a robust
    callback's failure with the callback's ``__qualname__``, which a ``partial`` lacks,
    so an AttributeError escapes from the commit instead (Django ticket #36487, fixed
    after 5.2). The partial gets ``func``'s name, and the log names ``func``."""
    call = update_wrapper(partial(func, *args), func)
    transaction.on_commit(call, robust=True)
