"""``python -m example``: the stepping demo (see ``example.demo``)."""

from example.demo import main

raise SystemExit(main())
