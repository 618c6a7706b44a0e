"""The API's resources, as attributes of a client: ``client.byok`` is a :class:`BYOKResource`.

``client.byok.with_raw_response`` is a :class:`RawBYOKResource`: the same calls, returning
the parsed result together with the facts of the HTTP exchange.
"""

from .byok import BYOKResource, RawBYOKResource

__all__ = ["BYOKResource", "RawBYOKResource"]
