import sys

from proofs_check._entry import main

sys.exit(main())
