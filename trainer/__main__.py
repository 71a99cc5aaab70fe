"""``python -m trainer --config FILE``: the trainer on its own, without the app (see trainer.command)."""

import sys

from trainer.command import main

sys.exit(main())
