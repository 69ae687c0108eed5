"""Run the command line as ``python -m bot.cli`` when the package is not installed."""

import sys

from bot.cli.main import main

sys.exit(main())
