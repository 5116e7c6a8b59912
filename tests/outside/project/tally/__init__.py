"""A tiny app: tallies of named counts, a ledger component of its own, a scheduled job."""

from tally.app import make_app

__all__ = ["make_app"]
