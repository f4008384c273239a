"""``python -m dedup.corpus OUT [--seed N] [--articles N] [--samples DIR | --no-samples]``."""

import sys

from .build import main

sys.exit(main())
