"""``python -m shadow`` is the ``shadow`` command."""

import sys

from shadow.cli import main

if __name__ == "__main__":  # not when a spawned diff process imports its parent's main module
    sys.exit(main())
