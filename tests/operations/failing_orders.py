"""The API in a web process whose order list always fails: what error tracking is for."""

from pro_platform.wsgi import application  # first: it sets Django up before any model loads

# isort: split
from orders import apis

__all__ = ["application"]


def _broken(**kwargs: object) -> None:
    raise RuntimeError("the order list broke")


apis.order_list = _broken  # type: ignore[assignment]
