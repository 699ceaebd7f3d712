<?php // stand-in: the contract image's `php -f` records the call.
