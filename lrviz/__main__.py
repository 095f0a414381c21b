"""``python -m lrviz``: the same as the installed ``lrviz`` command."""

import sys

from lrviz.launch import main

if __name__ == "__main__":
    sys.exit(main())
