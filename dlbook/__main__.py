import sys

from dlbook.cli import main

sys.exit(main())
