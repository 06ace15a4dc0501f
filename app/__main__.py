"""`python -m app` runs the stereofoley command line."""

import sys

from app.cli import main

sys.exit(main())
