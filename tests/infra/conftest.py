"""tests/infra run from make check-infra with the virtualenv that
scripts/install-infra-tools.sh makes (python-hcl2, pytest)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
